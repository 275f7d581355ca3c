"""One screening run. ``screen`` runs one screener over the passages and returns ``Flag`` records (``coauthor.core
.policy``) with a sentence naming the screener. If the moderation endpoint fails (refused key,
rate limit, server error, timeout, no connection, unreadable reply, or an ``http://`` address
of another computer, to which the key is never sent) the passages it did not screen are
screened offline, and the result says so in ``error``, ``source_note`` and ``statement``
("OpenAI moderation failed (…); the offline checker screened the text instead.", which the
export summary and the provenance report repeat): text is never passed unscreened, and the
failure is never silent. Error sentences are redacted of the key (``errors.redact``).
Each flag carries ``text_hash``, a hash of its passage's text, so an override recorded by the
author (``apply_overrides``) follows that exact text and lapses as soon as it is edited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from coauthor.ai.errors import FailureKind, ProviderError
from coauthor.core.policy import Flag, Hit
from coauthor.screening.offline import OfflineScreener
from coauthor.screening.passages import Passage, text_hash
from coauthor.screening.rules import OFFLINE_NOTE, _ordered

if TYPE_CHECKING:
    from coauthor.ai.moderation import OpenAIModerator

logger = logging.getLogger(__name__)

__all__ = ["OPENAI_UNCOVERED", "ScreeningResult", "screen"]

OPENAI_UNCOVERED = ("political-campaigning", "spam")
"""Our categories OpenAI's moderation endpoint has no category for: screened offline."""


@dataclass
class ScreeningResult:
    """Flags (one per flagged passage), what screened them, and the failure if any."""

    flags: list[Flag] = field(default_factory=list)
    source_note: str = ""
    error: str | None = None
    """Set when the moderation endpoint failed and the offline checker took over."""
    checked: int = 0
    by_openai: int = 0
    """How many passages OpenAI's endpoint screened (the rest were screened offline)."""
    reasons: dict[tuple[int, int, int], tuple[str, ...]] = field(default_factory=dict)
    """Why each passage is flagged, by ``(chapter_id, start, end)``."""
    retries: list[str] = field(default_factory=list)
    """The moderation requests that were retried (rate limit, server error), one line each."""
    statement: str = OFFLINE_NOTE
    """Which screening actually ran, in one sentence, for the export summary and the report:
    "OpenAI moderation failed (…); the offline checker screened the text instead." when the
    endpoint failed."""

    @property
    def fell_back(self) -> bool:
        """Whether the moderation endpoint failed and the offline checker took over."""
        return self.error is not None

    def reasons_for(self, flag: Flag) -> tuple[str, ...]:
        return self.reasons.get((flag.chapter_id, flag.start, flag.end), ())


def _flag(passage: Passage, hits: list[Hit]) -> Flag:
    source = "openai" if any(h.source == "openai" for h in hits) else "offline"
    return Flag(
        passage.chapter_id,
        passage.start,
        passage.end,
        _ordered(h.category for h in hits),
        source=source,
        text_hash=text_hash(passage.text),
    )


def screen(
    passages: Sequence[Passage],
    moderator: OpenAIModerator | None = None,
    *,
    offline: OfflineScreener | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScreeningResult:
    """Screen every passage; never raises for a service failure and never skips a passage.

    With a moderator, OpenAI screens each passage and the offline checker adds political
    campaigning and spam. Once the endpoint fails, the passages of that batch and every later
    one are screened offline in full, and ``error`` and ``source_note`` say so.
    """
    offline = offline or OfflineScreener()
    passages = [p for p in passages if p.text.strip()]
    total = len(passages)
    hits: list[list[Hit]] = [[] for _ in passages]
    done = 0
    error: ProviderError | None = None
    retried = len(moderator.retries) if moderator is not None else 0
    if moderator is not None:
        while done < total:
            batch = passages[done : done + moderator.batch_size]
            try:
                answers = moderator.classify_batch([p.text for p in batch])
            except ProviderError as exc:
                error = exc
                logger.warning("moderation endpoint failed: %s", exc)
                break
            for index, (passage, answer) in enumerate(zip(batch, answers, strict=True)):
                hits[done + index] = answer + offline.check(passage.text, OPENAI_UNCOVERED)
            done += len(batch)
            if progress is not None:
                progress(done, total)
    by_openai = done
    for index in range(by_openai, total):
        hits[index] = offline.check(passages[index].text)
        if progress is not None and (index + 1 == total or (index + 1) % 64 == 0):
            progress(index + 1, total)

    result = ScreeningResult(checked=total, by_openai=by_openai)
    if moderator is not None:
        result.retries = moderator.retries[retried:]
    for passage, found in zip(passages, hits, strict=True):
        if found:
            flag = _flag(passage, found)
            result.flags.append(flag)
            result.reasons[(flag.chapter_id, flag.start, flag.end)] = tuple(
                dict.fromkeys(h.reason for h in found)
            )
    result.statement, result.source_note, result.error = _notes(moderator, error, total, by_openai)
    return result


def _failure_phrase(moderator: OpenAIModerator, error: ProviderError) -> str:
    """What went wrong with the moderation endpoint, in a few words (for the statement)."""
    host = moderator.host
    tries = f"{moderator.max_attempts} tr{'ies' if moderator.max_attempts != 1 else 'y'}"
    kind = error.kind
    if kind is FailureKind.AUTH:
        return f"{host} refused the key, HTTP {error.status}"
    if kind is FailureKind.RATE_LIMIT:
        return f"{host} was still limiting requests after {tries}, HTTP 429"
    if kind is FailureKind.SERVER:
        return f"{host} answered HTTP {error.status} after {tries}"
    if kind is FailureKind.TIMEOUT:
        return f"{host} did not answer within {moderator.timeout:g} seconds"
    if kind is FailureKind.CONNECTION:
        return f"Coauthor could not connect to {host}"
    if kind is FailureKind.INSECURE:
        return f"Coauthor will not send the key to {host} over plain http://"
    if kind is FailureKind.MALFORMED:
        return f"{host} sent a reply Coauthor cannot read"
    return f"{host} refused the request" + (f", HTTP {error.status}" if error.status else "")


def _notes(
    moderator: OpenAIModerator | None, error: ProviderError | None, total: int, by_openai: int
) -> tuple[str, str, str | None]:
    """The statement of which screening ran, the note (the statement and a count) and, when
    the endpoint failed, the error for the author."""
    count = f"{total} passage{'s' if total != 1 else ''}"
    checked = f"{count.capitalize()} checked."
    if moderator is None:
        return OFFLINE_NOTE, f"{OFFLINE_NOTE} {checked}", None
    service = moderator.describe()
    if error is None:
        statement = (
            f"Screened by {service}; political campaigning and spam, which it does not cover, "
            "by Coauthor's offline phrase checker."
        )
        return statement, f"{statement} {checked}", None
    rest = total - by_openai
    failed = f"OpenAI moderation failed ({_failure_phrase(moderator, error)})"
    if by_openai:
        statement = (
            f"{failed} after screening {by_openai} of {count}; the offline checker screened "
            f"the other {rest} instead."
        )
        note = statement
    else:
        statement = f"{failed}; the offline checker screened the text instead."
        note = f"{statement} {checked}"
    message = (
        f"{error} The offline phrase checker screened {rest} passage{'s' if rest != 1 else ''} "
        "instead; it catches far less, so screen again when the service is back."
    )
    return statement, note, message


# -- overrides ------------------------------------------------------------------------------
