"""The offline phrase checker: deterministic, English only, no understanding of context."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from coauthor.core.policy import CATEGORIES, Hit
from coauthor.screening.prefilter import _folded, _has_each, _prefilter
from coauthor.screening.rules import _APOSTROPHES, _LEADING, OFFLINE_RULES, Rule

__all__ = ["OfflineScreener"]


class OfflineScreener:
    """The phrase checker: deterministic, English only, no understanding of context.

    With ``prefilter`` (the default) a rule only runs on a passage that contains the words
    its pattern cannot match without (``_prefilter``); without it every rule runs, which
    gives the same hits, more slowly (the tests compare the two).
    """

    source = "offline"

    def __init__(self, rules: Sequence[Rule] = OFFLINE_RULES, *, prefilter: bool = True) -> None:
        self.rules = tuple(rules)
        self.prefilter = prefilter
        self._needs = tuple(
            tuple(tuple(sorted(need)) for need in _prefilter(rule.pattern)) if prefilter else ()
            for rule in self.rules
        )

    def check(self, text: str, categories: Iterable[str] | None = None) -> list[Hit]:
        """The hits in one passage (one per rule that matched), optionally for some categories."""
        wanted = set(CATEGORIES if categories is None else categories)
        plain = text.translate(_APOSTROPHES)  # same length, so spans index ``text`` too
        folded = _folded(plain) if self.prefilter else plain
        hits: list[Hit] = []
        for rule, needs in zip(self.rules, self._needs, strict=True):
            if rule.category not in wanted or not _has_each(folded, needs):
                continue
            matches = list(rule.pattern.finditer(plain))
            if len(matches) < rule.min_count or not matches:
                continue
            phrases = [" ".join(text[m.start() : m.end()].split()).strip(_LEADING) for m in matches]
            phrase = phrases[0] if len(phrases) == 1 else ", ".join(dict.fromkeys(phrases))
            if len(phrase) > 80:
                phrase = phrase[:79] + "…"
            hits.append(Hit(rule.category, phrase))
        return hits


# -- the moderation endpoint ----------------------------------------------------------------
