"""Named snapshots read back from the project file: their text, comparisons, a restore's plan.

Both front ends use these: ``coauthor snapshots`` / ``diff`` and the Snapshots window. A
snapshot's text is replayed from the chapter's stored events up to the event it names
(``core.snapshots``), so events still in memory must be written first (the app flushes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coauthor.core.book import Chapter
from coauthor.core.project import Project, ProjectError, Source
from coauthor.core.provenance import EMPTY_FRAGMENT, Fragment
from coauthor.core.snapdiff import Change, common_ends, diff_fragments
from coauthor.core.snapshots import NamedSnapshot, replay_text
from coauthor.store import ProjectFile

__all__ = [
    "ChapterComparison",
    "RestorePlan",
    "compare",
    "describe_snapshot",
    "restore_plan",
    "snapshot_text",
    "taken_at",
]


@dataclass(frozen=True)
class ChapterComparison:
    """One chapter in two states; a side is None when the chapter is not in that state."""

    chapter_id: int
    title: str
    old: Fragment | None
    new: Fragment | None
    changes: list[Change]

    @property
    def changed(self) -> bool:
        return bool(self.changes) or (self.old is None) != (self.new is None)


@dataclass(frozen=True)
class RestorePlan:
    """Put ``fragment`` in place of ``start``..``end`` of the chapter; ``source`` names it."""

    chapter: Chapter
    start: int
    end: int
    fragment: Fragment
    source: Source


def snapshot_text(project_file: ProjectFile, chapter_id: int, as_of: int) -> Fragment:
    """A chapter's text and runs after event ``as_of``, replayed from the stored chain."""
    return replay_text(project_file.events(chapter_id, as_of))


def _titles(project: Project) -> dict[int, str]:
    return {c.id: c.title for c in [*project.removed_chapters, *project.chapters]}


def compare(
    project_file: ProjectFile,
    project: Project,
    old: NamedSnapshot,
    new: NamedSnapshot | None = None,
) -> list[ChapterComparison]:
    """Each chapter of ``old`` (and of ``new``: a snapshot, or None for the text now) compared.

    Against the text now, a snapshot of one chapter compares that chapter; a snapshot of the
    book also shows chapters added since (and those taken out, as removed).
    """
    now = {c.id: c for c in project.chapters}
    if new is None:
        new_ids = list(old.chapters)
        if old.whole_book:
            new_ids = [c.id for c in project.chapters]
    else:
        new_ids = list(new.chapters)
    ids = list(dict.fromkeys([*old.chapters, *new_ids]))
    titles = _titles(project)
    result = []
    for cid in ids:
        before = snapshot_text(project_file, cid, old.as_of) if cid in old.chapters else None
        after: Fragment | None = None
        if cid in new_ids:
            if new is not None:
                after = snapshot_text(project_file, cid, new.as_of)
            elif cid in now:
                text = now[cid].text
                after = text.slice(0, len(text))
        changes = diff_fragments(before or EMPTY_FRAGMENT, after or EMPTY_FRAGMENT)
        result.append(
            ChapterComparison(cid, titles.get(cid, f"chapter {cid}"), before, after, changes)
        )
    return result


def restore_plan(
    project_file: ProjectFile, project: Project, snapshot: NamedSnapshot, chapter: Chapter
) -> RestorePlan | None:
    """How to bring ``chapter`` back to its text in ``snapshot`` with its origins (None: it is
    already so). The snapshot's text is held in the project so the restore can name it."""
    if chapter.id not in snapshot.chapters:
        raise ProjectError(f"the snapshot “{snapshot.name}” does not hold “{chapter.title}”")
    if chapter not in project.chapters:
        raise ProjectError(f"“{chapter.title}” is not in the book; restore the chapter first")
    old = snapshot_text(project_file, chapter.id, snapshot.as_of)
    current = chapter.text.slice(0, len(chapter.text))
    if old == current:
        return None
    prefix, suffix = common_ends(current, old)
    project.hold_replayed(chapter.id, snapshot.as_of, old)
    length = len(old.text) - prefix - suffix
    piece = old.sub(prefix, prefix + length)
    source: Source = ((chapter.id, snapshot.as_of, prefix, length),) if length else ()
    return RestorePlan(chapter, prefix, len(current.text) - suffix, piece, source)


def describe_snapshot(project: Project, snapshot: NamedSnapshot) -> str:
    """Where a snapshot applies, in words: "the book" or the chapter titles."""
    if snapshot.whole_book:
        return "the book"
    titles = _titles(project)
    return ", ".join(f"“{titles.get(c, f'chapter {c}')}”" for c in snapshot.chapters)


def taken_at(snapshot: NamedSnapshot) -> str:
    """When the snapshot was taken, as a local date and time."""
    return datetime.fromtimestamp(snapshot.time / 1000).strftime("%Y-%m-%d %H:%M")
