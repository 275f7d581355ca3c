"""The project as the hash chain says it is: every fact rebuilt from the events alone.

``ChainReplayer`` takes the events of a project in order and builds a ``Project`` from them:
chapters and their text and runs, generations, reviews, imports, screening overrides, the
book's details and the signing keys. Nothing else is read. The store uses it to load a file
(with snapshots to skip most text events), ``verify`` runs it over the whole history in strict
mode, and every export reads the project it produced.

In strict mode it also checks what each event claims:

- every event follows the previous one (sequence number and hash);
- text events apply to the text (a deletion deletes what is there);
- a restore names its source, and the text and runs it puts back equal that source;
- an approval names a generation the chain holds, whose text is in a chapter of the book,
  after it was shown to the reviewer;
- a report names a generation the chain holds, one of the report categories and a reason;
- a presentation's events name the session running, show only approved generations, and
  give a reason for every flagged prompt sent.
- a named snapshot names chapters the chain created and a state before its own event.
- pasted text naming a declaration of the author's own writing names one the chain holds,
  and is exactly the text that declaration names (its length and SHA-256).

Issues are collected as ``ChainIssue`` (the first one is what ``verify`` reports).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coauthor.core.book import MARKUPS, BookMeta, Chapter, ImportRecord
from coauthor.core.declarations import DECLARATION_KINDS, Declaration
from coauthor.core.generation import Generation, ReviewState, generation_from_record
from coauthor.core.history import (
    EDIT,
    GENESIS,
    META,
    RESTORE,
    EditEvent,
    History,
    ReplayError,
    apply_event,
    event_hash,
)
from coauthor.core.origin import Origin
from coauthor.core.project import (
    DEMO_ACTIONS,
    REPORT_CATEGORIES,
    SHARE_FORMS,
    DemoAction,
    DemoEvent,
    Override,
    Project,
    Report,
    ReviewRecord,
    Share,
    SigningKey,
)
from coauthor.core.provenance import Fragment
from coauthor.core.snapshots import NamedSnapshot, SnapshotKind

__all__ = [
    "ChainIssue",
    "ChainReplayer",
    "Piece",
    "check_restore",
    "ShownState",
    "first_difference",
    "restore_source",
    "shown_state",
    "unknown_ai_text",
]

Piece = tuple[int, int, int, int]


@dataclass(frozen=True)
class ChainIssue:
    """Something the chain does not back: ``seq`` is the event at fault (None: no one event)."""

    seq: int | None
    message: str


def restore_source(event: EditEvent) -> tuple[Piece, ...] | None:
    """The source a restore event names, or None if it names none (or a malformed one)."""
    if event.kind != RESTORE or not event.payload:
        return None
    try:
        data = json.loads(event.payload)
        pieces = tuple((int(c), int(a), int(s), int(n)) for c, a, s, n in data.get("source") or ())
    except (ValueError, TypeError, AttributeError):
        return None
    return pieces or None


def check_restore(
    pieces: tuple[Piece, ...], claimed: Fragment, captured: dict[Piece, Fragment], seq: int
) -> bool:
    """Whether the text and runs a restore event put back equal the source it names."""
    found = Fragment("", ())
    for piece in pieces:
        part = captured.get(piece)
        if part is None or piece[1] >= seq:
            return False
        found = found.join(part)
    return found == claimed


def unknown_ai_text(project: Project) -> list[tuple[Chapter, int, int, str]]:
    """AI text whose generation the chain does not hold: (chapter, start, end, ref)."""
    found = []
    for chapter in project.chapters:
        pos = 0
        for length, origin, ref in chapter.text.runs():
            if origin is Origin.AI and (ref is None or ref not in project.generations):
                found.append((chapter, pos, pos + length, ref or "?"))
            pos += length
    return found


class ChainReplayer:
    """Builds a ``Project`` from events; in ``strict`` mode checks each event's claims.

    ``wanted`` lists the source pieces that restores will name (from a first look at the
    restore events), so their text can be kept when the replay passes the state they name.
    """

    def __init__(
        self,
        *,
        strict: bool = False,
        check_hashes: bool = True,
        wanted: Iterable[Piece] = (),
        project: Project | None = None,
        own: frozenset[int] | None = None,
    ) -> None:
        self.project = project or Project(history=History())
        self.strict = strict
        # Off when the caller checks the hash links elsewhere (``verify`` does it in parallel).
        self.check_hashes = check_hashes
        self.issues: list[ChainIssue] = []
        self.count = 0
        self.last_seq = 0
        self.last_hash = GENESIS
        self._by_id: dict[int, Chapter] = {}
        self._wanted: dict[int, list[Piece]] = {}
        for piece in wanted:
            self._wanted.setdefault(piece[1], []).append(piece)
        self._captured: dict[Piece, Fragment] = {}
        self._partial_generations: set[str] = set()
        # A replay of part of the chapters (``own``; the events of the others are not fed):
        # what needs every chapter is collected for the caller to settle with the other part.
        self.own = own
        self.deferred_restores: list[tuple[int, tuple[Piece, ...], Fragment]] = []
        self.approvals: list[tuple[int, str, bool]] = []  # (event, generation, text in own)
        if own is not None:
            for piece in list(self._wanted_pieces()):
                if piece[0] not in own:
                    self._wanted[piece[1]].remove(piece)
            self._wanted = {k: v for k, v in self._wanted.items() if v}
        self._as_of = sorted(self._wanted)
        self._next_as_of = self._as_of[0] if self._as_of else None

    # -- feeding events ---------------------------------------------------------------------

    def chapter(self, chapter_id: int) -> Chapter | None:
        return self._by_id.get(chapter_id)

    @property
    def captured(self) -> dict[Piece, Fragment]:
        """The text each wanted source piece of this replay's chapters named."""
        return self._captured

    def _wanted_pieces(self) -> Iterable[Piece]:
        for pieces in self._wanted.values():
            yield from pieces

    def _capture_before(self, seq: int) -> None:
        """Keep the pieces that name a state before event ``seq`` (the chapters they name
        have not changed since: only their own events change them)."""
        as_of = self._as_of
        while as_of and as_of[0] < seq:
            self._capture(as_of.pop(0))
        self._next_as_of = as_of[0] if as_of else None

    def feed(self, event: EditEvent, *, text: bool = True) -> None:
        """Apply one event. With ``text`` False, text events are only counted (a load that
        takes chapter text from snapshots)."""
        self.count += 1
        if self.strict and self.check_hashes:
            if event.seq != self.last_seq + 1:
                self._issue(event.seq, f"event {self.last_seq + 1} is missing from the history")
            if event_hash(self.last_hash, event) != event.hash:
                self._issue(
                    event.seq,
                    f"event {event.seq} does not match its hash: it was changed after it was "
                    "written",
                )
        if self._next_as_of is not None and self._next_as_of < event.seq:
            self._capture_before(event.seq)
        self.last_seq = event.seq
        self.last_hash = event.hash
        if event.kind == META:
            self._meta(event)
            return
        if not text:
            return
        chapter = self._by_id.get(event.chapter)
        if chapter is None:
            self._issue(
                event.seq,
                f"event {event.seq} edits chapter {event.chapter}, which the history never created",
            )
            return
        if event.kind == RESTORE and event.inserted:
            self._check_restore(event)
        try:
            apply_event(chapter.text, event, chapter.process, check=self.strict)
        except ReplayError as exc:
            self._issue(event.seq, f"event {event.seq} does not apply: it {exc}")
            return
        if event.origin is Origin.AI and event.inserted and event.ref:
            generation = self.project.generations.get(event.ref)
            if generation is not None and generation.inserted_at is None:
                generation.inserted_at = event.time
        elif self.strict and event.origin is Origin.PASTED and event.ref is not None:
            self._check_declared(event)

    def feed_row(self, row: tuple) -> None:
        """``feed`` for an event as the store reads it (the columns of its ``events`` table,
        in order; more columns after them are ignored). A typed, generated, pasted or imported edit takes a fast path when the
        hashes are checked elsewhere: ``verify`` feeds half a million of them."""
        seq, chapter_id, kind, pos, deleted, inserted, origin, ref, _, _, when, digest = row[:12]
        if (
            kind == EDIT
            and not self.check_hashes
            and (self._next_as_of is None or seq <= self._next_as_of)
        ):
            chapter = self._by_id.get(chapter_id)
            if chapter is not None and pos >= 0:
                text = chapter.text
                n = len(deleted) if deleted else 0
                if n and (pos + n > len(text) or not text.holds(pos, deleted)):
                    self.feed(EditEvent.from_row(row[:12]))  # names what is wrong
                    return
                if inserted and (
                    origin is None or pos > len(text) - n or (ref is not None and origin == "p")
                ):  # a declared paste is checked against its declaration
                    self.feed(EditEvent.from_row(row[:12]))
                    return
                self.count += 1
                self.last_seq = seq
                self.last_hash = digest
                if n:
                    text.delete(pos, n)
                if inserted:
                    code = Origin.from_code(origin)
                    text.insert(pos, inserted, code, ref)
                    chapter.process[code] += len(inserted)
                    if code is Origin.AI and ref:
                        generation = self.project.generations.get(ref)
                        if generation is not None and generation.inserted_at is None:
                            generation.inserted_at = when
                return
        self.feed(EditEvent.from_row(row[:12]))

    def finish(self) -> Project:
        """The project the events describe (history positioned after the last event)."""
        self._capture_before(self.last_seq + 1)
        project = self.project
        project.history = History(self.last_seq, self.last_hash)
        project._next_chapter_id = max(self._by_id, default=0) + 1
        project.dirty_chapters.clear()
        project.dirty_generations.clear()
        project.dirty_imports.clear()
        project.dirty_overrides.clear()
        project.dirty_meta = False
        return project

    @property
    def partial_generations(self) -> set[str]:
        """Generations recorded by an older Coauthor, whose chain event lacks the full record."""
        return self._partial_generations

    # -- internals --------------------------------------------------------------------------

    def _issue(self, seq: int | None, message: str) -> None:
        self.issues.append(ChainIssue(seq, message))

    def _capture(self, as_of: int) -> None:
        for piece in self._wanted.pop(as_of):
            chapter_id, _, start, length = piece
            chapter = self._by_id.get(chapter_id)
            if chapter is not None and start >= 0 and start + length <= len(chapter.text):
                self._captured[piece] = chapter.text.slice(start, start + length)

    def _check_restore(self, event: EditEvent) -> None:
        pieces = restore_source(event)
        if pieces is None:
            self._issue(
                event.seq,
                f"event {event.seq} puts back text without naming where it comes from, so its "
                "origins are not backed by the record",
            )
            return
        if not self.strict:
            return
        claimed = Fragment(event.inserted, event.runs or ())
        if self.own is not None:
            self.deferred_restores.append((event.seq, pieces, claimed))
            return
        if not check_restore(pieces, claimed, self._captured, event.seq):
            self._issue(
                event.seq,
                f"event {event.seq} puts back text whose text or origins differ from its "
                "source in the record",
            )

    def _check_declared(self, event: EditEvent) -> None:
        """A pasted insertion naming a declaration: the chain holds it, for this very text."""
        declaration = self.project.declarations.get(event.ref or "")
        if declaration is None:
            self._issue(
                event.seq,
                f"event {event.seq} pastes text as the author's own writing under declaration "
                f"{event.ref}, which the history does not hold",
            )
        elif not declaration.matches(event.inserted):
            self._issue(
                event.seq,
                f"event {event.seq} pastes text that is not the text declaration {event.ref} "
                "names (its length or SHA-256 differs)",
            )

    def _meta(self, event: EditEvent) -> None:
        try:
            payload = json.loads(event.payload or "{}")
            if not isinstance(payload, dict):
                raise TypeError("not an object")
            self._apply_meta(event, payload)
        except (ValueError, TypeError, KeyError) as exc:
            self._issue(event.seq, f"event {event.seq} cannot be read ({exc})")

    def _apply_meta(self, event: EditEvent, payload: dict[str, Any]) -> None:
        project = self.project
        op = payload.get("op")
        cid = event.chapter
        if op == "chapter-add":
            if cid in self._by_id:
                self._issue(event.seq, f"event {event.seq} adds chapter {cid} a second time")
                return
            markup = str(payload.get("markup", "markdown"))
            if markup not in MARKUPS:
                self._issue(
                    event.seq,
                    f"event {event.seq} gives chapter {cid} the unknown markup {markup!r}",
                )
                markup = "plain"
            chapter = Chapter(cid, str(payload.get("title", "")), markup=markup)
            self._by_id[cid] = chapter
            index = _index(payload, len(project.chapters))
            project.chapters.insert(index, chapter)
        elif op in (
            "chapter-rename",
            "chapter-move",
            "chapter-remove",
            "chapter-restore",
            "chapter-markup",
        ):
            chapter = self._by_id.get(cid)
            if chapter is None:
                self._issue(
                    event.seq, f"event {event.seq} changes chapter {cid}, which does not exist"
                )
                return
            if op == "chapter-rename":
                chapter.title = str(payload.get("title", ""))
            elif op == "chapter-markup":
                markup = str(payload.get("markup", ""))
                if markup in MARKUPS:
                    chapter.markup = markup
                else:
                    self._issue(
                        event.seq,
                        f"event {event.seq} gives chapter {cid} the unknown markup {markup!r}",
                    )
            elif op == "chapter-move" and chapter in project.chapters:
                project.chapters.remove(chapter)
                project.chapters.insert(_index(payload, len(project.chapters)), chapter)
            elif op == "chapter-remove" and chapter in project.chapters:
                project.chapters.remove(chapter)
                project.removed_chapters.append(chapter)
            elif op == "chapter-restore" and chapter in project.removed_chapters:
                project.removed_chapters.remove(chapter)
                project.chapters.insert(_index(payload, len(project.chapters)), chapter)
            elif self.strict:
                self._issue(
                    event.seq, f"event {event.seq} ({op}) does not fit chapter {cid}'s state"
                )
        elif op == "generation":
            self._generation(event, payload)
        elif op == "review":
            self._review(event, payload)
        elif op == "report":
            self._report(event, payload)
        elif op == "demo":
            self._demo(event, payload)
        elif op == "snapshot":
            self._snapshot(event, payload)
        elif op == "import":
            record = payload.get("record")
            if isinstance(record, dict):
                imported = ImportRecord.from_record(record)
            else:  # an older Coauthor recorded only the id and source
                imported = ImportRecord(
                    str(payload["id"]), str(payload.get("source", "")), "", False
                )
                self._partial_generations.add(f"import:{imported.id}")
            project.imports[imported.id] = imported
        elif op == "share":
            form = str(payload.get("form", ""))
            if form not in SHARE_FORMS and self.strict:
                self._issue(event.seq, f"event {event.seq} shares in an unknown form {form!r}")
            project.shares.append(
                Share(
                    event.seq,
                    event.time,
                    event.chapter,
                    int(payload["start"]),
                    int(payload["end"]),
                    form,
                    str(payload.get("sha256", "")),
                )
            )
        elif op == "declare":
            self._declare(event, payload)
        elif op == "override":
            key = str(payload["text_hash"])
            project.overrides[key] = Override(
                key,
                tuple(str(c) for c in payload.get("categories") or ()),
                str(payload.get("reason", "")),
                str(payload.get("reviewer", "")),
                event.time,
            )
        elif op == "book":
            meta = {k: v for k, v in payload.items() if k != "op"}
            project.meta = BookMeta.from_dict(meta)
        elif op == "key":
            fingerprint = str(payload["fingerprint"])
            project.signing_keys.setdefault(
                fingerprint,
                SigningKey(
                    fingerprint,
                    str(payload.get("public_key", "")),
                    str(payload.get("name", "")),
                    event.time,
                ),
            )
        elif self.strict:
            self._issue(event.seq, f"event {event.seq} records an unknown kind of fact ({op!r})")

    def _declare(self, event: EditEvent, payload: dict[str, Any]) -> None:
        declaration = Declaration(
            str(payload["id"]),
            event.time,
            str(payload["sha256"]),
            int(payload["length"]),
            str(payload.get("kind", "")),
            str(payload.get("by", "")),
            event.seq,
        )
        if self.strict:
            if declaration.kind not in DECLARATION_KINDS:
                self._issue(
                    event.seq,
                    f"event {event.seq} records an unknown kind of declaration "
                    f"({declaration.kind!r})",
                )
                return
            if declaration.id in self.project.declarations:
                self._issue(
                    event.seq,
                    f"event {event.seq} records declaration {declaration.id} a second time",
                )
                return
        self.project.declarations.setdefault(declaration.id, declaration)

    def _generation(self, event: EditEvent, payload: dict[str, Any]) -> None:
        project = self.project
        record = payload.get("record")
        if isinstance(record, dict):
            generation = generation_from_record(record)
        else:  # an older Coauthor recorded a summary; the rest is filled from its table
            generation = Generation(
                str(payload["id"]),
                "",
                str(payload.get("model", "")),
                outcome=payload.get("outcome", "complete"),
            )
            self._partial_generations.add(generation.id)
        if generation.id in project.generations:
            self._issue(
                event.seq, f"event {event.seq} adds generation {generation.id} a second time"
            )
            return
        if generation.chapter_id is None and event.chapter:
            generation.chapter_id = event.chapter
        project.generations[generation.id] = generation

    def _review(self, event: EditEvent, payload: dict[str, Any]) -> None:
        project = self.project
        gid = str(payload["generation"])
        state = ReviewState(payload["state"])
        shown = payload.get("shown_ms")
        shown_ms = int(shown) if isinstance(shown, int | float) else None
        generation = project.generations.get(gid)
        if generation is None:
            self._issue(
                event.seq,
                f"event {event.seq} reviews generation {gid}, which the record does not hold",
            )
            return
        if self.strict and state is ReviewState.APPROVED and self.own is not None:
            found = any(
                origin is Origin.AI and ref == gid
                for chapter in project.chapters
                if chapter.id in self.own
                for _, origin, ref in chapter.text.runs()
            )
            self.approvals.append((event.seq, gid, found))
            if not shown_ms or shown_ms <= 0:
                self._issue(
                    event.seq, f"event {event.seq} approves generation {gid} that was never shown"
                )
        elif self.strict and state is ReviewState.APPROVED:
            if not project.has_text_in_book(gid):
                self._issue(
                    event.seq,
                    f"event {event.seq} approves generation {gid} while none of its text is in "
                    "the book",
                )
            elif not shown_ms or shown_ms <= 0:
                self._issue(
                    event.seq,
                    f"event {event.seq} approves generation {gid} that was never shown",
                )
        reviewer = str(payload.get("reviewer", ""))
        note = str(payload.get("note", ""))
        generation.review_state = state
        generation.reviewer = reviewer if state is not ReviewState.PENDING else ""
        generation.reviewed_at = event.time if state is not ReviewState.PENDING else None
        generation.note = note
        project.review_log.append(
            ReviewRecord(event.seq, event.time, gid, state, reviewer, shown_ms, note)
        )

    def _snapshot(self, event: EditEvent, payload: dict[str, Any]) -> None:
        """A named snapshot: the chapters it names exist and the state it names is earlier."""
        name = str(payload.get("name", ""))
        as_of = payload.get("as_of")
        chapters = payload.get("chapters")
        try:
            kind = SnapshotKind(str(payload.get("kind", "manual")))
        except ValueError:
            kind = SnapshotKind.MANUAL
            if self.strict:
                self._issue(event.seq, f"event {event.seq} records a snapshot of an unknown kind")
        if (
            not isinstance(as_of, int)
            or isinstance(as_of, bool)
            or not 0 <= as_of < event.seq
            or not isinstance(chapters, list)
            or not all(isinstance(c, int) and not isinstance(c, bool) for c in chapters)
        ):
            self._issue(
                event.seq,
                f"event {event.seq} records a snapshot of a state that is not earlier in the "
                "record",
            )
            return
        if self.strict and not name.strip():
            self._issue(event.seq, f"event {event.seq} records a snapshot without a name")
        unknown = [c for c in chapters if c not in self._by_id]
        if self.strict and unknown:
            self._issue(
                event.seq,
                f"event {event.seq} records a snapshot of chapter {unknown[0]}, which the "
                "history never created",
            )
        self.project.named_snapshots.append(
            NamedSnapshot(
                event.seq,
                event.time,
                name,
                tuple(chapters),
                as_of,
                kind,
                bool(payload.get("book", False)),
            )
        )

    def _report(self, event: EditEvent, payload: dict[str, Any]) -> None:
        gid = str(payload["generation"])
        category = str(payload.get("category", ""))
        reason = str(payload.get("reason", ""))
        if gid not in self.project.generations:
            self._issue(
                event.seq,
                f"event {event.seq} reports generation {gid}, which the record does not hold",
            )
            return
        if self.strict and category not in REPORT_CATEGORIES:
            self._issue(
                event.seq,
                f"event {event.seq} reports generation {gid} under the unknown category "
                f"{category!r}",
            )
        if self.strict and not reason.strip():
            self._issue(event.seq, f"event {event.seq} reports generation {gid} without a reason")
        self.project.reports.append(
            Report(
                event.seq,
                event.time,
                gid,
                category,
                reason,
                str(payload.get("by", "")),
                str(payload.get("bundle_sha256", "")),
                bool(payload.get("context", False)),
            )
        )

    def _demo(self, event: EditEvent, payload: dict[str, Any]) -> None:
        """A fact of a live demonstration: checked as ``Project.demo_refusal`` checks it when
        it is recorded, and that every event names the session that is running."""
        project = self.project
        action = str(payload.get("action", ""))
        generation = str(payload.get("generation", ""))
        reason = str(payload.get("reason", ""))
        problem = project.demo_refusal(action, generation, reason)
        if problem and self.strict:
            self._issue(event.seq, f"event {event.seq} (presentation): {problem}")
        if action not in DEMO_ACTIONS:
            return
        session = event.seq if action == "start" else payload.get("session")
        if action != "start" and session != project.open_demo and self.strict and not problem:
            self._issue(
                event.seq,
                f"event {event.seq} names presentation {session}, but the one running "
                f"started at event {project.open_demo}",
            )
        project.demos.append(
            DemoEvent(
                event.seq,
                event.time,
                int(session) if isinstance(session, int) else 0,
                DemoAction(action),
                str(payload.get("by", "")),
                event.chapter,
                generation,
                str(payload.get("prompt_hash", "")),
                tuple(str(c) for c in payload.get("categories") or ()),
                reason,
            )
        )


def _index(payload: dict[str, Any], size: int) -> int:
    index = payload.get("index")
    if not isinstance(index, int):
        return size
    return max(0, min(index, size))


@dataclass(frozen=True)
class ShownState:
    """What ``first_difference`` compares of a book, copied: the app takes it on the GUI thread
    and the export's worker compares it with the replayed chain while the author writes on."""

    meta: BookMeta
    chapters: tuple[tuple[int, str, str, tuple[tuple[int, Origin, str | None], ...]], ...]
    """(id, title, text, runs) of each chapter, in order."""
    reviews: dict[str, ReviewState]


def shown_state(project: Project) -> ShownState:
    return ShownState(
        project.meta,
        tuple((c.id, c.title, c.text.text, tuple(c.text.runs())) for c in project.chapters),
        {gid: g.review_state for gid, g in project.generations.items()},
    )


def first_difference(chained: Project | ShownState, shown: Project | ShownState) -> str | None:
    """Where the project on screen differs from the one the chain describes (None: nowhere).

    Compared: the book's details, the chapters (order, titles, text and origins), and each
    generation's review state.
    """
    a_state = chained if isinstance(chained, ShownState) else shown_state(chained)
    b_state = shown if isinstance(shown, ShownState) else shown_state(shown)
    if a_state.meta != b_state.meta:
        return "the book's details"
    if [c[0] for c in a_state.chapters] != [c[0] for c in b_state.chapters]:
        return "the chapters or their order"
    for number, (a, b) in enumerate(zip(a_state.chapters, b_state.chapters, strict=True), 1):
        if a[1] != b[1]:
            return f"the title of chapter {number}"
        if a[2] != b[2]:
            return f"the text of chapter {number} ({b[1]})"
        if a[3] != b[3]:
            return f"the origins of chapter {number} ({b[1]})"
    for gid, state in a_state.reviews.items():
        other = b_state.reviews.get(gid)
        if other is None or other is not state:
            return f"the review state of generation {gid}"
    extra = set(b_state.reviews) - set(a_state.reviews)
    if extra:
        return f"generation {min(extra)}, which the record does not hold"
    return None
