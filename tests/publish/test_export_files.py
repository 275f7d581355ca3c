"""How exports reach the disk: ``atomic_write`` and the characters a Markdown file can carry.

- Every export is written to ``.{name}.{random}.part`` beside its target, fsynced, then
  renamed over it; a failure (a folder in the way, a read-only or full disk) is one sentence
  (``ExportWriteError``) and leaves the target as it was and no ``.part`` behind.
- ``.part`` files a killed export left for a target are removed by its next export; one that
  another export is still writing (it holds a lock on it) is left alone.
- The Markdown export never holds NUL or another character Markdown, XML or UTF-8 cannot
  carry: each becomes U+FFFD, one for one, and ``coauthor verify`` accepts the file.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish.document import (
    ExportWriteError,
    atomic_write,
    atomic_write_all,
    clean_markdown_text,
    prepare_export,
    remove_stale_parts,
)
from coauthor.publish.markdown_export import check_folder, export_markdown, render_markdown
from coauthor.publish.verify_export import verify_export

OLD = b"the previous export\n"


def _write(data: bytes):
    def write(temp: Path) -> None:
        temp.write_bytes(data)

    return write


def test_atomic_write_replaces_the_target_and_leaves_no_part(tmp_path: Path) -> None:
    target = tmp_path / "book.html"
    target.write_bytes(OLD)
    assert atomic_write(target, _write(b"new")) == target
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["book.html"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not private


def test_onto_a_folder_is_one_sentence(tmp_path: Path) -> None:
    target = tmp_path / "book.epub"
    target.mkdir()
    with pytest.raises(ExportWriteError) as caught:
        atomic_write(target, _write(b"x"))
    assert str(caught.value) == (
        f"{target} is a folder, not a file: choose a file name for the export; nothing was changed."
    )
    assert target.is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]


def test_a_file_in_the_way_of_the_folder_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "notes").write_bytes(OLD)
    with pytest.raises(ExportWriteError, match="a file is in the way of its folder"):
        atomic_write(tmp_path / "notes" / "book.md", _write(b"x"))
    assert (tmp_path / "notes").read_bytes() == OLD


@pytest.mark.parametrize(
    ("step", "code", "reason"),
    [
        ("replace", errno.EROFS, "the disk is read-only"),
        ("fsync", errno.ENOSPC, "the disk is full"),
        ("fsync", errno.EDQUOT, "the disk quota is used up"),
        ("fsync", errno.EIO, "the disk reported an input/output error"),
    ],
)
def test_a_failing_disk_leaves_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, code: int, reason: str
) -> None:
    target = tmp_path / "book.md"
    target.write_bytes(OLD)

    def fail(*_args: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(ExportWriteError) as caught:
        atomic_write(target, _write(b"new" * 1000))
    monkeypatch.undo()
    assert str(caught.value) == f"Cannot write {target}: {reason}; nothing was changed."
    assert target.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["book.md"]


def test_a_failing_writer_leaves_no_part(tmp_path: Path) -> None:
    def write(temp: Path) -> None:
        temp.write_bytes(b"half")
        raise RuntimeError("the renderer broke")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "book.html", write)
    assert list(tmp_path.iterdir()) == []


def test_all_files_are_renamed_only_once_all_are_written(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(OLD)

    def broken(temp: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(ExportWriteError, match="the disk is full"):
        atomic_write_all([(tmp_path / "a.md", _write(b"new a")), (tmp_path / "b.md", broken)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]
    assert (tmp_path / "a.md").read_bytes() == OLD


def test_stale_parts_of_the_target_are_removed_and_others_kept(tmp_path: Path) -> None:
    target = tmp_path / "book.epub"
    stale = tmp_path / ".book.epub.k3j_x9q2.part"
    stale.write_bytes(b"\0" * 1024)
    kept = {
        ".other.epub.k3j_x9q2.part": b"another target",
        "book.epub.part": b"a browser's download",
        ".book.epub.part": b"no random part",
        "notes.txt": b"the author's",
    }
    for name, data in kept.items():
        (tmp_path / name).write_bytes(data)
    atomic_write(target, _write(b"new"))
    assert not stale.exists()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != "book.epub"} == kept


def test_a_part_another_export_is_writing_is_left_alone(tmp_path: Path) -> None:
    live = tmp_path / ".book.epub.abcd1234.part"
    live.write_bytes(b"being written")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert remove_stale_parts(tmp_path, "book.epub") == []
        assert live.exists()
    finally:
        os.close(fd)
    assert remove_stale_parts(tmp_path, "book.epub") == [live]
    assert not live.exists()


def test_check_folder(tmp_path: Path) -> None:
    check_folder(tmp_path / "new", force=False)
    check_folder(tmp_path, force=False)  # empty
    (tmp_path / ".x.md.abcd1234.part").write_bytes(b"left by a kill")
    check_folder(tmp_path, force=False)  # only what a killed export left
    (tmp_path / "notes.txt").write_bytes(OLD)
    with pytest.raises(ExportWriteError, match="is not empty; add --force"):
        check_folder(tmp_path, force=False)
    check_folder(tmp_path, force=True)
    with pytest.raises(ExportWriteError, match="is a file; a folder export needs a folder"):
        check_folder(tmp_path / "notes.txt", force=True)


# -- the characters a Markdown file carries --------------------------------------------------

CONTROLS = "a\x00b\x01c\x08d\x0be\x0cf\x1fg\ufffeh\uffffi\ud800j"


def test_clean_markdown_text_replaces_one_for_one() -> None:
    cleaned = clean_markdown_text(CONTROLS + "\t\n\r")
    assert len(cleaned) == len(CONTROLS) + 3
    assert cleaned == "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh\ufffdi\ufffdj\t\n\r"


def _book_with_controls() -> Project:
    project = Project(BookMeta(title="Nul", author="N. Body"))
    chapter = project.add_chapter("Zero")
    project.insert(chapter, 0, f"Before {CONTROLS} after.\n\nSecond\x00paragraph.", Origin.HUMAN)
    return project


def test_the_markdown_export_never_holds_nul_and_drops_nothing(tmp_path: Path) -> None:
    document = prepare_export(_book_with_controls())
    text = render_markdown(document)
    assert "\x00" not in text
    assert "Before a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh\ufffdi\ufffdj after." in text
    assert "Second\ufffdparagraph." in text

    target = export_markdown(document, tmp_path / "book.md")
    data = target.read_bytes()
    assert b"\x00" not in data
    assert not any(byte < 0x20 and byte not in b"\t\n\r" for byte in data)
    verify_export(target)  # the manifest states the text as the file carries it

    folder = export_markdown(document, tmp_path / "folder", folder=True)
    for path in folder.iterdir():
        assert b"\x00" not in path.read_bytes(), path.name
