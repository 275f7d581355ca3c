"""A project in memory: the book, its chapters, generations and imports, and their history.

Every change goes through ``Project``, which applies it to the chapter's provenance text and
records it in the history in the same step, so the log and the text cannot drift apart. The
store (``coauthor.store``) writes what changed; the UI and the CLI call the same methods.
"""

from __future__ import annotations

import dataclasses
import json
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from coauthor.core.book import MARKUPS, BookMeta, Chapter, ImportRecord
from coauthor.core.declarations import (
    OWN_WRITING,
    Declaration,
    declaration_payload,
    text_sha256,
)
from coauthor.core.generation import Generation, ReviewState, generation_record
from coauthor.core.history import EDIT, META, RESTORE, EditEvent, History
from coauthor.core.origin import Origin
from coauthor.core.provenance import EMPTY_FRAGMENT, Fragment
from coauthor.core.snapshots import NamedSnapshot, SnapshotKind
from coauthor.core.text import clean_field, valid_unicode, valid_value

__all__ = [
    "REPORT_CATEGORIES",
    "Override",
    "Project",
    "ProjectError",
    "Report",
    "DEMO_ACTIONS",
    "DemoAction",
    "DemoEvent",
    "DemoSession",
    "ReviewRecord",
    "SHARE_FORMS",
    "Share",
    "SigningKey",
    "Source",
    "demo_sessions",
    "now_ms",
    "source_to_json",
]


_MULTILINE_META = frozenset({"description", "synopsis", "notes", "foreword", "rights"})


def _clean_meta(meta: BookMeta) -> BookMeta:
    """The book's details without NUL or control characters (line breaks kept where a detail
    may have several lines)."""
    return BookMeta.from_dict(
        {k: clean_field(v, multiline=k in _MULTILINE_META) for k, v in meta.to_dict().items()}
    )


def now_ms() -> int:
    return int(_time.time() * 1000)


Source = tuple[tuple[int, int, int, int], ...]
"""Where restored text comes from: pieces ``(chapter, as_of, start, length)``, in order.

Each piece is the text and runs a chapter held from ``start`` for ``length`` characters in the
state after event ``as_of`` (all events up to and including sequence number ``as_of``). An
undo names the state before the event that removed the text; a paste inside Coauthor names
the state when the text was copied.
"""


def source_to_json(source: Source) -> list[list[int]]:
    return [list(piece) for piece in source]


@dataclass(frozen=True)
class ReviewRecord:
    """One review decision as the chain records it."""

    seq: int
    time: int
    generation: str
    state: ReviewState
    reviewer: str
    shown_ms: int | None
    note: str = ""


@dataclass(frozen=True)
class SigningKey:
    """An author's public signing key as the chain records it (the private key never is)."""

    fingerprint: str
    public_key: str  # base64 of the raw Ed25519 public key
    name: str
    time: int


@dataclass(frozen=True)
class Override:
    text_hash: str
    categories: tuple[str, ...]
    reason: str
    reviewer: str
    time: int


REPORT_CATEGORIES = (
    "harmful",
    "biased",
    "factual error",
    "policy violation",
    "security issue",
)
"""What an author may report a generation as (``Project.record_report``)."""


@dataclass(frozen=True)
class Report:
    """A generation the author reported as problematic, as the chain records it.

    ``bundle_sha256`` is the SHA-256 of the file written for the provider (Coauthor sends
    nothing); ``context`` says whether the surrounding text went into that file.
    """

    seq: int
    time: int
    generation: str
    category: str
    reason: str
    by: str
    bundle_sha256: str
    context: bool


SHARE_FORMS = ("text", "image")
"""How a passage can be shared (``Project.record_share``): labelled text, or a PNG card."""


@dataclass(frozen=True)
class Share:
    """A passage shared outside Coauthor (on social media, in a message), as the chain records
    it: where it came from, in which form, the SHA-256 of what was handed out, and when."""

    seq: int
    time: int
    chapter: int
    start: int
    end: int
    form: str
    sha256: str


class DemoAction(StrEnum):
    """What a live demonstration (Present mode) records (``Project.record_demo``)."""

    START = "start"
    SHOWN = "shown"
    OVERRIDE = "override"
    END = "end"


DEMO_ACTIONS = tuple(DemoAction)


@dataclass(frozen=True)
class DemoEvent:
    """One fact of a live demonstration, as the chain records it (an ``op: demo`` event).

    ``start`` opens a session (``session`` is then its own sequence number; ``chapter`` is
    the chapter presented); ``shown`` puts an approved generation before the audience;
    ``override`` sends a prompt the screening flagged (``prompt_hash`` is its text hash,
    ``categories`` what flagged it, ``reason`` why it was sent anyway); ``end`` closes the
    session. Every event but ``start`` names its session by the sequence number of its start.
    """

    seq: int
    time: int
    session: int
    action: DemoAction
    by: str = ""
    chapter: int = 0
    generation: str = ""
    prompt_hash: str = ""
    categories: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class DemoSession:
    """A live demonstration summed up from its events: when it started and ended (``ended``
    None: the session was never ended, e.g. the app was killed), who presented, which
    generations the audience saw and how many flagged prompts were sent anyway."""

    start: int
    started: int
    ended: int | None
    by: str
    chapter: int
    shown: tuple[str, ...]
    overrides: int


class ProjectError(Exception):
    """A request the project cannot carry out, in words an author understands."""


class Project:
    def __init__(
        self,
        meta: BookMeta | None = None,
        *,
        clock: Callable[[], int] = now_ms,
        history: History | None = None,
    ) -> None:
        self.meta = _clean_meta(meta) if meta is not None else BookMeta()
        self.chapters: list[Chapter] = []
        self.removed_chapters: list[Chapter] = []
        self.generations: dict[str, Generation] = {}
        self.imports: dict[str, ImportRecord] = {}
        # Content-screening overrides, keyed by the passage's text hash: reason, who, when.
        self.overrides: dict[str, Override] = {}
        self.dirty_overrides: set[str] = set()
        # Public signing keys recorded in the chain, by fingerprint.
        self.signing_keys: dict[str, SigningKey] = {}
        # Every review decision, oldest first (the chain's review events).
        self.review_log: list[ReviewRecord] = []
        # Every generation reported as problematic, oldest first (the chain's report events).
        self.reports: list[Report] = []
        # Every passage shared, oldest first (the chain's share events).
        self.shares: list[Share] = []
        # Named snapshots, oldest first (the chain's snapshot events; ``core.snapshots``).
        self.named_snapshots: list[NamedSnapshot] = []
        # Every fact of the live demonstrations, oldest first (the chain's demo events).
        self.demos: list[DemoEvent] = []
        # Text the author pasted and declared their own writing, by id (``core.declarations``).
        self.declarations: dict[str, Declaration] = {}
        # Text this session removed or copied, kept so a restore can be checked against it:
        # (chapter, as_of) -> [(start, fragment)]. See ``Source``.
        self._archive: dict[tuple[int, int], list[tuple[int, Fragment]]] = {}
        self.last_removal: tuple[int, int, int, int] | None = None
        self._prior: tuple[EditEvent, int, int] | None = None
        """The source piece of the text the last change removed, for its undo (or None)."""
        self.history = history or History()
        self.clock = clock
        # What changed since the store last wrote: chapter ids, generation and import ids.
        self.dirty_chapters: set[int] = set()
        self.dirty_generations: set[str] = set()
        self.dirty_imports: set[str] = set()
        self.dirty_meta = False
        self._next_chapter_id = 1
        self._id_counter = 0
        if meta is not None and history is None:
            # A new book: its details are the chain's first fact, like every later change.
            self._meta_event(0, {"op": "book", **self.meta.to_dict()})

    # -- chapters ---------------------------------------------------------------------------

    def chapter(self, chapter_id: int) -> Chapter:
        for chapter in self.chapters:
            if chapter.id == chapter_id:
                return chapter
        raise ProjectError(f"there is no chapter with id {chapter_id}")

    def find_chapter(self, key: str | int) -> Chapter:
        """A chapter by its number in the book (from 1) or by its exact title."""
        text = str(key).strip()
        for chapter in self.chapters:
            if chapter.title == text:
                return chapter
        if text.isdigit():
            number = int(text)
            if 1 <= number <= len(self.chapters):
                return self.chapters[number - 1]
        count = len(self.chapters)
        raise ProjectError(
            f"no chapter is titled or numbered {text!r} (the book has {count} chapter"
            f"{'' if count == 1 else 's'})"
        )

    def add_chapter(
        self, title: str, position: int | None = None, *, markup: str = "markdown"
    ) -> Chapter:
        """A new empty chapter; ``markup`` is ``markdown`` or ``plain`` (``Chapter.markup``)."""
        if markup not in MARKUPS:
            raise ProjectError(f"unknown markup {markup!r}: use one of {', '.join(MARKUPS)}")
        title = clean_field(title)
        chapter = Chapter(self._next_chapter_id, title, markup=markup)
        self._next_chapter_id += 1
        index = (
            len(self.chapters) if position is None else max(0, min(position, len(self.chapters)))
        )
        self.chapters.insert(index, chapter)
        payload: dict[str, object] = {"op": "chapter-add", "title": title, "index": index}
        if markup != "markdown":
            payload["markup"] = markup
        self._meta_event(chapter.id, payload)
        self.dirty_chapters.add(chapter.id)
        return chapter

    def rename_chapter(self, chapter: Chapter, title: str) -> None:
        title = clean_field(title)
        if title == chapter.title:
            return
        chapter.title = title
        self._meta_event(chapter.id, {"op": "chapter-rename", "title": title})
        self.dirty_chapters.add(chapter.id)

    def set_markup(self, chapter: Chapter, markup: str) -> None:
        """Read the chapter as Markdown or as plain text from now on (an event, undoable)."""
        if markup not in MARKUPS:
            raise ProjectError(f"unknown markup {markup!r}: use one of {', '.join(MARKUPS)}")
        if markup == chapter.markup:
            return
        chapter.markup = markup
        self._meta_event(chapter.id, {"op": "chapter-markup", "markup": markup})
        self.dirty_chapters.add(chapter.id)

    def move_chapter(self, chapter: Chapter, index: int) -> None:
        self.chapters.remove(chapter)
        index = max(0, min(index, len(self.chapters)))
        self.chapters.insert(index, chapter)
        self._meta_event(chapter.id, {"op": "chapter-move", "index": index})
        self.dirty_chapters.update(c.id for c in self.chapters)

    def remove_chapter(self, chapter: Chapter) -> None:
        """Take a chapter out of the book; it stays in the file and can be restored."""
        self.chapters.remove(chapter)
        self.removed_chapters.append(chapter)
        self._meta_event(chapter.id, {"op": "chapter-remove"})
        self.dirty_chapters.update(c.id for c in [*self.chapters, chapter])

    def restore_chapter(self, chapter: Chapter, index: int) -> None:
        self.removed_chapters.remove(chapter)
        index = max(0, min(index, len(self.chapters)))
        self.chapters.insert(index, chapter)
        self._meta_event(chapter.id, {"op": "chapter-restore", "index": index})
        self.dirty_chapters.update(c.id for c in self.chapters)

    # -- text -------------------------------------------------------------------------------

    def insert(
        self,
        chapter: Chapter,
        pos: int,
        text: str,
        origin: Origin,
        ref: str | None = None,
        *,
        time: int | None = None,
    ) -> EditEvent | None:
        """Insert fresh text (typed, generated, pasted or imported)."""
        return self.replace(chapter, pos, 0, text, origin, ref, time=time)

    def delete(
        self, chapter: Chapter, pos: int, length: int, *, time: int | None = None
    ) -> Fragment:
        """Delete a range and return it with its runs (for undo and cut)."""
        fragment = chapter.text.slice(pos, pos + length)
        if len(fragment.text) != length:
            raise ProjectError(
                f"cannot delete {length} characters at {pos} in a chapter of {len(chapter.text)}"
            )
        self.last_removal = None
        if length:
            chapter.text.delete(pos, length)
            self._probe()
            self._recorded_removal(
                chapter.id,
                pos,
                fragment,
                self.history.record(
                    chapter.id,
                    EDIT,
                    pos,
                    fragment.text,
                    "",
                    None,
                    None,
                    self.clock() if time is None else time,
                ),
            )
            self.dirty_chapters.add(chapter.id)
        return fragment

    def replace(
        self,
        chapter: Chapter,
        pos: int,
        length: int,
        text: str,
        origin: Origin,
        ref: str | None = None,
        *,
        time: int | None = None,
    ) -> EditEvent | None:
        """Replace a range with fresh text, as one event."""
        if not length and not text:
            return None
        if not text.isascii():
            text = valid_unicode(text)
        origin = Origin(origin)
        if origin in (Origin.AI, Origin.IMPORTED) and ref is None:
            raise ProjectError(f"{origin.value} text needs the id of its generation or import")
        if ref is not None and origin is Origin.PASTED:
            declaration = self.declarations.get(ref)
            if declaration is None or not declaration.matches(text):
                raise ProjectError(
                    f"pasted text can name only the declaration of that very text; the record "
                    f"holds no such declaration {ref!r}"
                )
        provenance = chapter.text
        if pos < 0 or pos + length > len(provenance):
            raise ProjectError(
                f"position {pos}+{length} is outside the chapter ({len(provenance)} characters)"
            )
        removed = provenance.slice(pos, pos + length) if length else EMPTY_FRAGMENT
        deleted = removed.text
        if length:
            provenance.delete(pos, length)
        provenance.insert(pos, text, origin, ref)
        chapter.process[origin] += len(text)
        self.dirty_chapters.add(chapter.id)
        when = self.clock() if time is None else time
        if length and not text:
            self._probe()
        if origin is Origin.AI and text:
            generation = self.generations.get(ref or "")
            if generation is not None and generation.inserted_at is None:
                generation.inserted_at = when
                self.dirty_generations.add(generation.id)
        event = self.history.record(
            chapter.id,
            EDIT,
            pos,
            deleted,
            text,
            origin,
            ref,
            when,
        )
        self.last_removal = None
        if length:
            self._recorded_removal(chapter.id, pos, removed, event)
        return event

    def insert_fragment(
        self,
        chapter: Chapter,
        pos: int,
        fragment: Fragment,
        *,
        source: Source = (),
        delete: int = 0,
        time: int | None = None,
    ) -> EditEvent | None:
        """Put text back with its own runs (an undo, a move or a copy inside the app).

        ``source`` names where the text and runs were before (see ``Source``); the project
        refuses a restore whose source it does not hold, so no one can relabel text by
        claiming to put it back.
        """
        if not fragment.text and not delete:
            return None
        provenance = chapter.text
        if pos < 0 or pos + delete > len(provenance):
            raise ProjectError(
                f"position {pos} is outside the chapter ({len(provenance)} characters)"
            )
        if fragment.text and self.backed(source) != fragment:
            raise ProjectError(
                "this text cannot be put back with its origins: the record does not hold it "
                "where its source says"
            )
        removed = provenance.slice(pos, pos + delete) if delete else EMPTY_FRAGMENT
        if delete:
            provenance.delete(pos, delete)
        provenance.insert_fragment(pos, fragment)
        self.dirty_chapters.add(chapter.id)
        event = self.history.record(
            chapter.id,
            RESTORE,
            pos,
            removed.text,
            fragment.text,
            None,
            None,
            self.clock() if time is None else time,
            runs=fragment.runs if fragment.text else None,
            payload=(
                json.dumps({"source": source_to_json(source)}, separators=(",", ":"))
                if fragment.text
                else None
            ),
        )
        self.last_removal = None
        if delete:
            self._recorded_removal(chapter.id, pos, removed, event)
        return event

    def register_copy(self, chapter: Chapter, start: int, end: int) -> tuple[Fragment, Source]:
        """Text copied (or dragged) from the book, with the source a paste of it may name."""
        fragment = chapter.text.slice(start, end)
        as_of = self.history.last_seq
        self.history.frozen = as_of  # typing on must not grow the event the source names
        if fragment.text:
            self._archive.setdefault((chapter.id, as_of), []).append((start, fragment))
        return fragment, ((chapter.id, as_of, start, len(fragment.text)),) if fragment.text else ()

    def backed(self, source: Source) -> Fragment | None:
        """The text and runs ``source`` names, if this session's record holds them."""
        result = EMPTY_FRAGMENT
        for piece in source:
            try:
                chapter_id, as_of, start, length = (int(x) for x in piece)
            except (TypeError, ValueError):
                return None
            found = None
            for at, fragment in self._archive.get((chapter_id, as_of), ()):
                if at <= start and start + length <= at + len(fragment.text):
                    found = fragment.sub(start - at, start - at + length)
                    break
            if found is None or length <= 0:
                return None
            result = result.join(found)
        return result if source else None

    def _probe(self) -> None:
        """Note the event a deletion may grow (a burst of deletes), before it is recorded."""
        pending = self.history.pending
        last = pending[-1] if pending else None
        self._prior = None if last is None else (last, last.pos, len(last.deleted))

    def _recorded_removal(
        self, chapter_id: int, pos: int, removed: Fragment, event: EditEvent
    ) -> None:
        """Keep what an event removed, in the coordinates of the state before that event.

        A burst of backspaces or deletes grows one event; each removal is placed where it
        was in the text the event started from.
        """
        start = pos
        prior = self._prior
        if prior is not None and prior[0] is event and prior[1] == pos:
            start = pos + prior[2]  # a forward delete grew the event at its end
        as_of = event.seq - 1
        self._prior = None
        self._archive.setdefault((chapter_id, as_of), []).append((start, removed))
        self.last_removal = (chapter_id, as_of, start, len(removed.text))

    # -- generations and imports ------------------------------------------------------------

    def new_generation_id(self) -> str:
        """A fresh id, never handed out twice (ids may be reserved before the record exists)."""
        self._id_counter = max(self._id_counter, len(self.generations))
        while True:
            self._id_counter += 1
            candidate = f"g{self._id_counter}"
            if candidate not in self.generations:
                return candidate

    def add_generation(self, generation: Generation) -> Generation:
        if generation.id in self.generations:
            raise ProjectError(f"generation {generation.id} already exists")
        generation.output = valid_unicode(generation.output)
        generation.messages = valid_value(generation.messages)  # type: ignore[assignment]
        generation.parameters = valid_value(generation.parameters)  # type: ignore[assignment]
        generation.error = valid_unicode(generation.error)
        self.generations[generation.id] = generation
        self.dirty_generations.add(generation.id)
        generation.review_state = ReviewState.PENDING
        generation.reviewer = ""
        generation.reviewed_at = None
        self._meta_event(
            generation.chapter_id or 0,
            {"op": "generation", "record": generation_record(generation)},
        )
        return generation

    def review_refusal(
        self, generation_id: str, state: ReviewState, shown_ms: int | None = None
    ) -> str | None:
        """Why this review cannot be recorded, or None if it can.

        Approval needs a generation the record holds, text of it in a chapter of the book, and
        a passage that was shown to the reviewer (``shown_ms``, how long it was on screen).
        """
        generation = self.generations.get(generation_id)
        if generation is None:
            return f"the record holds no generation {generation_id}"
        if ReviewState(state) is not ReviewState.APPROVED:
            return None
        if not self.has_text_in_book(generation_id):
            return (
                f"generation {generation_id} has no text in the book (its chapter may have "
                "been removed), so there is nothing to approve"
            )
        if not shown_ms or shown_ms <= 0:
            return f"generation {generation_id} has not been shown yet; read it before approving"
        return None

    def has_text_in_book(self, generation_id: str) -> bool:
        """Whether any character of the book (not of a removed chapter) is this generation's."""
        return any(
            origin is Origin.AI and ref == generation_id
            for chapter in self.chapters
            for _, origin, ref in chapter.text.runs()
        )

    def review(
        self,
        generation_id: str,
        state: ReviewState,
        reviewer: str,
        note: str = "",
        *,
        shown_ms: int | None = None,
    ) -> None:
        """Record a review decision; raises ``ProjectError`` when ``review_refusal`` says why not."""
        problem = self.review_refusal(generation_id, state, shown_ms)
        if problem:
            raise ProjectError(problem)
        reviewer, note = valid_unicode(reviewer), valid_unicode(note)
        generation = self.generations[generation_id]
        when = self.clock()
        state = ReviewState(state)
        generation.review_state = state
        generation.reviewer = reviewer if state is not ReviewState.PENDING else ""
        generation.reviewed_at = when if state is not ReviewState.PENDING else None
        generation.note = note
        self.dirty_generations.add(generation_id)
        payload: dict[str, object] = {
            "op": "review",
            "generation": generation_id,
            "state": str(state),
            "reviewer": reviewer,
            "note": note,
            "shown_ms": shown_ms,
        }
        self._meta_event(generation.chapter_id or 0, payload, time=when)
        self.review_log.append(
            ReviewRecord(
                self.history.last_seq, when, generation_id, state, reviewer, shown_ms, note
            )
        )

    def new_import_id(self) -> str:
        return f"i{len(self.imports) + 1}"

    def add_import(self, record: ImportRecord) -> ImportRecord:
        record.source = valid_unicode(record.source)
        record.details = valid_value(record.details)  # type: ignore[assignment]
        self.imports[record.id] = record
        self.dirty_imports.add(record.id)
        self._meta_event(0, {"op": "import", "record": record.to_record()})
        return record

    def paste_own_writing(
        self,
        chapter: Chapter,
        pos: int,
        length: int,
        text: str,
        *,
        by: str = "",
        time: int | None = None,
    ) -> Declaration:
        """Replace ``length`` characters at ``pos`` with pasted text the author declares their
        own writing: a declaration event (the text's SHA-256 and length), then the text as
        ``pasted`` naming it. Returns the declaration."""
        if not text:
            raise ProjectError("there is no text to declare")
        if not text.isascii():
            text = valid_unicode(text)
        if pos < 0 or pos + length > len(chapter.text):
            raise ProjectError(
                f"position {pos}+{length} is outside the chapter ({len(chapter.text)} characters)"
            )
        when = self.clock() if time is None else time
        declaration = Declaration(
            f"d{len(self.declarations) + 1}",
            when,
            text_sha256(text),
            len(text),
            OWN_WRITING,
            clean_field(by),
        )
        self._meta_event(chapter.id, declaration_payload(declaration), time=when)
        declaration = dataclasses.replace(declaration, seq=self.history.last_seq)
        self.declarations[declaration.id] = declaration
        self.replace(chapter, pos, length, text, Origin.PASTED, declaration.id, time=when)
        return declaration

    def record_share(self, chapter: Chapter, start: int, end: int, form: str, sha256: str) -> Share:
        """Record that ``chapter[start:end]`` was shared in ``form`` (what was handed out has
        the hash ``sha256``). The caller has passed the review gate for that range."""
        if form not in SHARE_FORMS:
            raise ProjectError(f"unknown share form {form!r}: use one of {', '.join(SHARE_FORMS)}")
        if chapter not in self.chapters:
            raise ProjectError(f"chapter {chapter.title!r} is not in the book")
        if not 0 <= start < end <= len(chapter.text):
            raise ProjectError(
                f"characters {start}-{end} are not a passage of {chapter.title!r} "
                f"({len(chapter.text):,} characters)"
            )
        payload = {
            "op": "share",
            "start": start,
            "end": end,
            "form": form,
            "sha256": sha256,
        }
        when = self.clock()
        self._meta_event(chapter.id, payload, time=when)
        share = Share(self.history.last_seq, when, chapter.id, start, end, form, sha256)
        self.shares.append(share)
        return share

    @property
    def open_demo(self) -> int | None:
        """The session of the running demonstration (its start's sequence number), or None."""
        for event in reversed(self.demos):
            return None if event.action == "end" else event.session
        return None

    def demo_refusal(
        self, action: DemoAction | str, generation: str = "", reason: str = ""
    ) -> str | None:
        """Why this demonstration event cannot be recorded, or None if it can.

        Everything but ``start`` needs a running session; ``shown`` needs a generation the
        presenter approved (pending text is never shown to an audience); ``override`` a reason.
        A ``start`` while a session is still open (one the app never ended) begins a new one.
        """
        if action not in DEMO_ACTIONS:
            return f"unknown demonstration event {action!r}: use one of {', '.join(DEMO_ACTIONS)}"
        if action == "start":
            return None
        if self.open_demo is None:
            return f"no presentation is running, so there is nothing to record as {action!r}"
        if action == "shown":
            record = self.generations.get(generation)
            if record is None:
                return f"the record holds no generation {generation!r}"
            if record.review_state is not ReviewState.APPROVED:
                return (
                    f"generation {generation} has not been approved: text pending review is "
                    "never shown to an audience"
                )
        if action == "override" and not reason.strip():
            return "sending a flagged prompt needs a reason"
        return None

    def record_demo(
        self,
        action: DemoAction | str,
        *,
        by: str = "",
        chapter: Chapter | None = None,
        generation: str = "",
        prompt_hash: str = "",
        categories: tuple[str, ...] = (),
        reason: str = "",
    ) -> DemoEvent:
        """Record one fact of a live demonstration (see ``DemoEvent``); raises
        ``ProjectError`` when ``demo_refusal`` says why not."""
        problem = self.demo_refusal(action, generation, reason)
        if problem:
            raise ProjectError(problem)
        action = DemoAction(action)
        by, reason = valid_unicode(by), valid_unicode(reason).strip()
        payload: dict[str, object] = {"op": "demo", "action": str(action)}
        if by:
            payload["by"] = by
        chapter_id = chapter.id if chapter is not None else 0
        if action != "start":
            payload["session"] = self.open_demo
        if action == "shown":
            chapter_id = self.generations[generation].chapter_id or 0
            payload["generation"] = generation
        if action == "override":
            payload.update(prompt_hash=prompt_hash, categories=list(categories), reason=reason)
        when = self.clock()
        self._meta_event(chapter_id, payload, time=when)
        seq = self.history.last_seq
        event = DemoEvent(
            seq,
            when,
            seq if action == "start" else int(self.open_demo or 0),
            action,
            by,
            chapter_id,
            generation,
            prompt_hash if action == "override" else "",
            tuple(categories) if action == "override" else (),
            reason if action == "override" else "",
        )
        self.demos.append(event)
        return event

    def demo_sessions(self) -> list[DemoSession]:
        """The live demonstrations, oldest first, summed up from the demo events."""
        return demo_sessions(self.demos)

    def take_snapshot(
        self,
        name: str,
        chapters: list[Chapter] | None = None,
        *,
        kind: SnapshotKind = SnapshotKind.MANUAL,
        as_of: int | None = None,
    ) -> NamedSnapshot:
        """Name the state of ``chapters`` (None: the whole book) after event ``as_of`` (None:
        now). An earlier ``as_of`` names a state already in the record (the start of a day)."""
        name = clean_field(name).strip()
        if not name:
            raise ProjectError("a snapshot needs a name")
        whole_book = chapters is None
        chosen = list(self.chapters) if chapters is None else chapters
        for chapter in chosen:
            if chapter not in self.chapters:
                raise ProjectError(f"chapter {chapter.title!r} is not in the book")
        last = self.history.last_seq
        as_of = last if as_of is None else as_of
        if not 0 <= as_of <= last:
            raise ProjectError(f"event {as_of} is not in the record (the last is {last})")
        # The event the snapshot names must not grow with typing that follows it.
        self.history.frozen = max(self.history.frozen, as_of)
        ids = tuple(chapter.id for chapter in chosen)
        payload: dict[str, object] = {
            "op": "snapshot",
            "name": name,
            "chapters": list(ids),
            "as_of": as_of,
            "kind": str(SnapshotKind(kind)),
            "book": whole_book,
        }
        when = self.clock()
        self._meta_event(ids[0] if len(ids) == 1 and not whole_book else 0, payload, time=when)
        snapshot = NamedSnapshot(
            self.history.last_seq, when, name, ids, as_of, SnapshotKind(kind), whole_book
        )
        self.named_snapshots.append(snapshot)
        return snapshot

    def hold_replayed(self, chapter_id: int, as_of: int, fragment: Fragment) -> None:
        """Keep text replayed from the stored chain (a chapter after event ``as_of``), so a
        restore may name it as its source; ``verify`` checks the restore against the chain."""
        if fragment.text:
            self._archive.setdefault((chapter_id, as_of), []).append((0, fragment))

    def record_override(
        self, text_hash: str, categories: tuple[str, ...], reason: str, reviewer: str
    ) -> Override:
        """The author's reasoned decision that a flagged passage may be published as it is."""
        if not reason.strip():
            raise ProjectError("an override needs a reason")
        reason, reviewer = valid_unicode(reason), valid_unicode(reviewer)
        # One reading of the clock for the override and its event: a replay dates the override
        # by its event, and verify compares the two.
        when = self.clock()
        override = Override(text_hash, tuple(categories), reason.strip(), reviewer, when)
        self.overrides[text_hash] = override
        self.dirty_overrides.add(text_hash)
        self._meta_event(
            0,
            {
                "op": "override",
                "text_hash": text_hash,
                "categories": list(categories),
                "reason": override.reason,
                "reviewer": reviewer,
            },
            time=when,
        )
        return override

    def report_refusal(self, generation_id: str, category: str, reason: str) -> str | None:
        """Why this report cannot be recorded, or None if it can."""
        if generation_id not in self.generations:
            return f"the record holds no generation {generation_id}"
        if category not in REPORT_CATEGORIES:
            return f"{category!r} is not a report category (one of: {', '.join(REPORT_CATEGORIES)})"
        if not reason.strip():
            return "a report needs a reason: say what is wrong with the generation"
        return None

    def record_report(
        self,
        generation_id: str,
        category: str,
        reason: str,
        *,
        by: str,
        include_context: bool,
        bundle_sha256: str = "",
        time: int | None = None,
    ) -> Report:
        """Record that the author reported a generation (the file for the provider is written
        first: ``bundle_sha256`` is its hash); raises ``ProjectError`` when
        ``report_refusal`` says why not."""
        problem = self.report_refusal(generation_id, category, reason)
        if problem:
            raise ProjectError(problem)
        reason, by = valid_unicode(reason).strip(), valid_unicode(by)
        generation = self.generations[generation_id]
        when = self.clock() if time is None else time
        self._meta_event(
            generation.chapter_id or 0,
            {
                "op": "report",
                "generation": generation_id,
                "category": category,
                "reason": reason,
                "by": by,
                "context": include_context,
                "bundle_sha256": bundle_sha256,
            },
            time=when,
        )
        report = Report(
            self.history.last_seq,
            when,
            generation_id,
            category,
            reason,
            by,
            bundle_sha256,
            include_context,
        )
        self.reports.append(report)
        return report

    def record_signing_key(self, fingerprint: str, public_key: str, name: str) -> SigningKey:
        """Record the author's public key in the chain (once per key); the private key stays out."""
        known = self.signing_keys.get(fingerprint)
        if known is not None:
            return known
        when = self.clock()  # the key's time is its event's, as a replay reads it
        key = SigningKey(fingerprint, public_key, name, when)
        self.signing_keys[fingerprint] = key
        self._meta_event(
            0,
            {"op": "key", "fingerprint": fingerprint, "public_key": public_key, "name": name},
            time=when,
        )
        return key

    def set_meta(self, meta: BookMeta) -> None:
        meta = _clean_meta(meta)
        self.meta = meta
        self.dirty_meta = True
        self._meta_event(0, {"op": "book", **meta.to_dict()})

    # -- internals --------------------------------------------------------------------------

    def _meta_event(
        self, chapter_id: int, payload: dict[str, object], *, time: int | None = None
    ) -> None:
        self.history.record(
            chapter_id,
            META,
            0,
            "",
            "",
            None,
            None,
            self.clock() if time is None else time,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
        )


def demo_sessions(events: list[DemoEvent]) -> list[DemoSession]:
    """The demonstrations ``events`` describe, oldest first (a session never ended has
    ``ended`` None)."""
    starts: dict[int, DemoEvent] = {}
    ended: dict[int, int] = {}
    shown: dict[int, list[str]] = {}
    overrides: dict[int, int] = {}
    for event in events:
        if event.action == "start":
            starts[event.seq], shown[event.seq], overrides[event.seq] = event, [], 0
        elif event.session in starts:
            if event.action == "end":
                ended[event.session] = event.time
            elif event.action == "shown":
                shown[event.session].append(event.generation)
            elif event.action == "override":
                overrides[event.session] += 1
    return [
        DemoSession(
            seq,
            start.time,
            ended.get(seq),
            start.by,
            start.chapter,
            tuple(shown[seq]),
            overrides[seq],
        )
        for seq, start in starts.items()
    ]
