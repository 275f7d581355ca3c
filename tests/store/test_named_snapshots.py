"""Named snapshots in a project file: ``verify`` accepts them and a restore that names one, and
catches a snapshot forged to name a state that does not exist (``core.snapshots``); the app's
comparison and restore plan read their text back from the stored chain (``app.snapshots``)."""

from __future__ import annotations

import json
from pathlib import Path

from forge import rewrite_chain

from coauthor.app.snapshots import compare, restore_plan
from coauthor.core.book import BookMeta
from coauthor.core.history import EditEvent
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.core.snapdiff import ChangeKind
from coauthor.core.snapshots import SnapshotKind
from coauthor.store import ProjectFile
from coauthor.store.verify import verify


def _book(path: Path) -> Path:
    """Two chapters, a snapshot of the first and one of the book, then edits after them."""
    project_file = ProjectFile.create(path, BookMeta(title="Kept"))
    project = Project(BookMeta(title="Kept"))
    one = project.add_chapter("One")
    two = project.add_chapter("Two")
    project.insert(one, 0, "The cat sat on the mat.", Origin.HUMAN)
    project.insert(two, 0, "Rain fell.", Origin.PASTED)
    project.take_snapshot("Draft", [one])
    project.take_snapshot("Book", kind=SnapshotKind.DAILY)
    project.replace(one, 4, 3, "dog", Origin.HUMAN)
    project.add_chapter("Three")
    project_file.close(project)
    return path


def _verified(path: Path) -> str:
    project_file = ProjectFile.open(path, readonly=True)
    try:
        result = verify(project_file)
    finally:
        project_file.close()
    assert result.ok, result.message
    return result.message


def test_snapshots_and_a_restore_naming_one_verify(tmp_path: Path) -> None:
    path = _book(tmp_path / "kept.coauthor")
    _verified(path)
    project_file = ProjectFile.open(path)
    try:
        project = project_file.load()
        draft, book = project.named_snapshots
        assert (draft.name, draft.whole_book, book.kind) == ("Draft", False, SnapshotKind.DAILY)
        one = project.chapters[0]
        plan = restore_plan(project_file, project, draft, one)
        assert plan is not None
        assert (plan.start, plan.end, plan.fragment.text) == (4, 7, "cat")
        project.insert_fragment(
            one, plan.start, plan.fragment, source=plan.source, delete=plan.end - plan.start
        )
        assert one.text.text == "The cat sat on the mat."
        assert restore_plan(project_file, project, draft, one) is None  # nothing left to do
        project_file.close(project)
    except BaseException:
        project_file.close()
        raise
    _verified(path)


def test_a_comparison_reads_each_side_from_the_chain(tmp_path: Path) -> None:
    path = _book(tmp_path / "kept.coauthor")
    project_file = ProjectFile.open(path, readonly=True)
    try:
        project = project_file.load()
        draft, book = project.named_snapshots
        [one] = compare(project_file, project, draft)
        [change] = one.changes
        assert (change.old.text, change.new.text, change.kind) == (
            "cat",
            "dog",
            ChangeKind.REPLACED,
        )
        chapters = compare(project_file, project, book)
        assert [c.title for c in chapters] == ["One", "Two", "Three"]
        assert [c.changed for c in chapters] == [True, False, True]
        assert chapters[2].old is None  # added after the snapshot
        assert compare(project_file, project, draft, book)[0].changes == []
    finally:
        project_file.close()


def test_a_snapshot_forged_to_name_a_later_state_is_caught(tmp_path: Path) -> None:
    path = _book(tmp_path / "kept.coauthor")

    def forge(event: EditEvent) -> None:
        payload = json.loads(event.payload or "{}") if event.kind == "m" else {}
        if payload.get("op") == "snapshot":
            payload["as_of"] = event.seq + 3
            event.payload = json.dumps(payload)

    rewrite_chain(path, forge)
    project_file = ProjectFile.open(path, readonly=True)
    try:
        result = verify(project_file)
    finally:
        project_file.close()
    assert not result.ok
    assert "snapshot of a state that is not earlier" in result.message
