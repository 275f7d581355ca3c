"""A project in memory: the book, its chapters, generations and imports, and their history.

Every change goes through ``Project``, which applies it to the chapter's provenance text and
records it in the history in the same step, so the log and the text cannot drift apart. The
store (``coauthor.store``) writes what changed; the UI and the CLI call the same methods.
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Callable
from dataclasses import dataclass

from coauthor.core.book import BookMeta, Chapter, ImportRecord
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.history import EDIT, META, RESTORE, EditEvent, History
from coauthor.core.origin import Origin
from coauthor.core.provenance import Fragment

__all__ = ["Override", "Project", "ProjectError", "now_ms"]


def now_ms() -> int:
    return int(_time.time() * 1000)


@dataclass(frozen=True)
class Override:
    text_hash: str
    categories: tuple[str, ...]
    reason: str
    reviewer: str
    time: int


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
        self.meta = meta or BookMeta()
        self.chapters: list[Chapter] = []
        self.removed_chapters: list[Chapter] = []
        self.generations: dict[str, Generation] = {}
        self.imports: dict[str, ImportRecord] = {}
        # Content-screening overrides, keyed by the passage's text hash: reason, who, when.
        self.overrides: dict[str, Override] = {}
        self.dirty_overrides: set[str] = set()
        self.history = history or History()
        self.clock = clock
        # What changed since the store last wrote: chapter ids, generation and import ids.
        self.dirty_chapters: set[int] = set()
        self.dirty_generations: set[str] = set()
        self.dirty_imports: set[str] = set()
        self.dirty_meta = False
        self._next_chapter_id = 1
        self._id_counter = 0

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

    def add_chapter(self, title: str, position: int | None = None) -> Chapter:
        chapter = Chapter(self._next_chapter_id, title)
        self._next_chapter_id += 1
        index = (
            len(self.chapters) if position is None else max(0, min(position, len(self.chapters)))
        )
        self.chapters.insert(index, chapter)
        self._meta_event(chapter.id, {"op": "chapter-add", "title": title, "index": index})
        self.dirty_chapters.add(chapter.id)
        return chapter

    def rename_chapter(self, chapter: Chapter, title: str) -> None:
        if title == chapter.title:
            return
        chapter.title = title
        self._meta_event(chapter.id, {"op": "chapter-rename", "title": title})
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
        if length:
            chapter.text.delete(pos, length)
            self.history.record(
                chapter.id,
                EDIT,
                pos,
                fragment.text,
                "",
                None,
                None,
                self.clock() if time is None else time,
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
        origin = Origin(origin)
        if origin in (Origin.AI, Origin.IMPORTED) and ref is None:
            raise ProjectError(f"{origin.value} text needs the id of its generation or import")
        provenance = chapter.text
        if pos < 0 or pos + length > len(provenance):
            raise ProjectError(
                f"position {pos}+{length} is outside the chapter ({len(provenance)} characters)"
            )
        deleted = provenance.text_in(pos, pos + length) if length else ""
        if length:
            provenance.delete(pos, length)
        provenance.insert(pos, text, origin, ref)
        chapter.process[origin] += len(text)
        self.dirty_chapters.add(chapter.id)
        when = self.clock() if time is None else time
        if origin is Origin.AI and text:
            generation = self.generations.get(ref or "")
            if generation is not None and generation.inserted_at is None:
                generation.inserted_at = when
                self.dirty_generations.add(generation.id)
        return self.history.record(
            chapter.id,
            EDIT,
            pos,
            deleted,
            text,
            origin,
            ref,
            when,
        )

    def insert_fragment(
        self,
        chapter: Chapter,
        pos: int,
        fragment: Fragment,
        *,
        delete: int = 0,
        time: int | None = None,
    ) -> EditEvent | None:
        """Put text back with its own runs (a move inside the app, an undo)."""
        if not fragment.text and not delete:
            return None
        provenance = chapter.text
        if pos < 0 or pos + delete > len(provenance):
            raise ProjectError(
                f"position {pos} is outside the chapter ({len(provenance)} characters)"
            )
        deleted = provenance.text_in(pos, pos + delete) if delete else ""
        if delete:
            provenance.delete(pos, delete)
        provenance.insert_fragment(pos, fragment)
        self.dirty_chapters.add(chapter.id)
        return self.history.record(
            chapter.id,
            RESTORE,
            pos,
            deleted,
            fragment.text,
            None,
            None,
            self.clock() if time is None else time,
            runs=fragment.runs if fragment.text else None,
        )

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
        self.generations[generation.id] = generation
        self.dirty_generations.add(generation.id)
        self._meta_event(
            generation.chapter_id or 0,
            {
                "op": "generation",
                "id": generation.id,
                "model": generation.model,
                "outcome": str(generation.outcome),
                "output_chars": len(generation.output),
            },
        )
        return generation

    def review(self, generation_id: str, state: ReviewState, reviewer: str, note: str = "") -> None:
        generation = self.generations[generation_id]
        generation.review_state = ReviewState(state)
        generation.reviewer = reviewer
        generation.reviewed_at = self.clock()
        generation.note = note
        self.dirty_generations.add(generation_id)
        self._meta_event(
            generation.chapter_id or 0,
            {
                "op": "review",
                "generation": generation_id,
                "state": str(state),
                "reviewer": reviewer,
            },
        )

    def new_import_id(self) -> str:
        return f"i{len(self.imports) + 1}"

    def add_import(self, record: ImportRecord) -> ImportRecord:
        self.imports[record.id] = record
        self.dirty_imports.add(record.id)
        self._meta_event(0, {"op": "import", "id": record.id, "source": record.source})
        return record

    def record_override(
        self, text_hash: str, categories: tuple[str, ...], reason: str, reviewer: str
    ) -> Override:
        """The author's reasoned decision that a flagged passage may be published as it is."""
        if not reason.strip():
            raise ProjectError("an override needs a reason")
        override = Override(text_hash, tuple(categories), reason.strip(), reviewer, self.clock())
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
        )
        return override

    def set_meta(self, meta: BookMeta) -> None:
        self.meta = meta
        self.dirty_meta = True
        self._meta_event(0, {"op": "book", **meta.to_dict()})

    # -- internals --------------------------------------------------------------------------

    def _meta_event(self, chapter_id: int, payload: dict[str, object]) -> None:
        self.history.record(
            chapter_id,
            META,
            0,
            "",
            "",
            None,
            None,
            self.clock(),
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
        )
