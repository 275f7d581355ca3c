"""``coauthor export`` onto a target that cannot take it: one sentence, exit 1, nothing changed.

A folder in the way is real (an existing folder named as the output); a read-only or full
disk cannot be made as root without mounting, so those are simulated in the command's own
process: ``os.replace`` fails with EROFS, ``os.fsync`` with ENOSPC, as the kernel would.
Temporary ``.part`` files a killed export left beside the target are removed by the next
export of that target; ``--folder`` into a folder that is not empty asks for ``--force``.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from coauthor import cli as cli_module
from coauthor.app import export as exporting
from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile

Cli = Callable[..., subprocess.CompletedProcess[bytes]]  # the ``cli`` fixture (tests/conftest.py)

FORMATS = ["epub", "markdown", "html", "report"]
PREVIOUS = b"the previous export, which must survive\n"
# No keyring: an export would otherwise record the author's key in the project first.
NO_KEYRING = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


@pytest.fixture
def run(cli: Cli) -> Cli:
    """``coauthor ARGS`` in a subprocess, without a keyring."""
    return lambda *args: cli(*args, env=NO_KEYRING)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small book with nothing pending: every export passes the gate."""
    path = tmp_path_factory.mktemp("book") / "book.coauthor"
    meta = BookMeta(title="Harbour Notes", author="M. Quill")
    project_file = ProjectFile.create(path, meta)
    project = Project(meta)
    one = project.add_chapter("Low Tide")
    project.insert(one, 0, "The boats lay on their sides.\n\nGulls argued.", Origin.HUMAN)
    two = project.add_chapter("High Tide")
    project.insert(two, 0, "The water came back.", Origin.HUMAN)
    project_file.close(project)
    return path


def _one_sentence(stderr: bytes) -> str:
    text = stderr.decode()
    assert len(text.splitlines()) == 1, text
    assert "Traceback" not in text
    assert "unexpected error" not in text
    return text


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_onto_a_folder_says_so_and_changes_nothing(
    book: Path, tmp_path: Path, run: Cli, fmt: str
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_bytes(PREVIOUS)
    before = book.read_bytes()
    result = run("export", book, "--format", fmt, "--out", target)
    assert result.returncode == 1
    line = _one_sentence(result.stderr)
    assert f"{target} is a folder" in line
    assert "nothing was changed" in line
    assert _tree(tmp_path) == {"out": b"<dir>", "out/keep.txt": PREVIOUS}
    assert book.read_bytes() == before


def test_markdown_folder_export_onto_a_file_says_so(book: Path, tmp_path: Path, run: Cli) -> None:
    target = tmp_path / "book.md"
    target.write_bytes(PREVIOUS)
    result = run("export", book, "--format", "markdown", "--folder", "--out", target)
    assert result.returncode == 1
    assert "is a file; a folder export needs a folder" in _one_sentence(result.stderr)
    assert target.read_bytes() == PREVIOUS


def _run_failing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    name: str,
    code: int,
) -> tuple[int, str]:
    """``coauthor ARGS`` in this process (without a keyring), with ``os.NAME`` failing with
    ``code`` as the kernel would."""

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    capsys.readouterr()
    with monkeypatch.context() as patch:
        patch.delenv("COAUTHOR_DEBUG", raising=False)
        patch.setattr(exporting, "signing_key", lambda _author: (None, "no keyring in this test"))
        patch.setattr(os, name, fail)
        status = cli_module.main(args)
    return status, capsys.readouterr().err


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("replace", errno.EROFS, "the disk is read-only"),
        ("fsync", errno.ENOSPC, "the disk is full"),
        ("replace", errno.EACCES, "permission denied"),
    ],
)
def test_a_read_only_or_full_disk_is_one_sentence_and_the_previous_file_survives(
    book: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    name: str,
    code: int,
    words: str,
) -> None:
    target = tmp_path / f"book.{fmt}"
    target.write_bytes(PREVIOUS)
    before = book.read_bytes()
    status, err = _run_failing(
        monkeypatch,
        capsys,
        ["export", str(book), "--format", fmt, "--out", str(target)],
        name,
        code,
    )
    assert status == 1
    line = _one_sentence(err.encode())
    assert line == f"coauthor: Cannot write {target}: {words}; nothing was changed.\n"
    assert target.read_bytes() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no .part left
    assert book.read_bytes() == before


@pytest.mark.parametrize(("name", "code"), [("replace", errno.EROFS), ("fsync", errno.ENOSPC)])
def test_a_failed_folder_export_leaves_the_earlier_one_whole(
    book: Path,
    tmp_path: Path,
    run: Cli,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    code: int,
) -> None:
    folder = tmp_path / "book"
    assert run("export", book, "--format", "markdown", "--folder", "--out", folder).returncode == 0
    earlier = _tree(folder)
    assert sorted(earlier) == ["00-foreword.md", "01-low-tide.md", "02-high-tide.md"]
    args = [
        "export",
        str(book),
        "--format",
        "markdown",
        "--folder",
        "--force",
        "--out",
        str(folder),
    ]
    status, err = _run_failing(monkeypatch, capsys, args, name, code)
    assert status == 1
    assert "nothing was changed" in _one_sentence(err.encode())
    assert _tree(folder) == earlier


def test_folder_export_into_a_folder_that_is_not_empty_asks_for_force(
    book: Path, tmp_path: Path, run: Cli
) -> None:
    folder = tmp_path / "chapters"
    folder.mkdir()
    (folder / "notes.txt").write_bytes(PREVIOUS)
    args = ["export", book, "--format", "markdown", "--folder", "--out", folder]
    result = run(*args)
    assert result.returncode == 1
    line = _one_sentence(result.stderr)
    assert "is not empty; add --force" in line
    assert _tree(folder) == {"notes.txt": PREVIOUS}

    result = run(*args, "--force")
    assert result.returncode == 0, result.stderr
    assert sorted(_tree(folder)) == [
        "00-foreword.md",
        "01-low-tide.md",
        "02-high-tide.md",
        "notes.txt",
    ]
    assert (folder / "notes.txt").read_bytes() == PREVIOUS  # other files are left alone

    # An empty folder, or a new one, needs no --force.
    for fresh in (tmp_path / "empty", tmp_path / "new" / "deeper"):
        if fresh.name == "empty":
            fresh.mkdir()
        result = run("export", book, "--format", "markdown", "--folder", "--out", fresh)
        assert result.returncode == 0, result.stderr
        assert (fresh / "01-low-tide.md").is_file()


def test_folder_applies_to_markdown_only(book: Path, tmp_path: Path, run: Cli) -> None:
    result = run("export", book, "--format", "epub", "--folder", "--out", tmp_path / "b.epub")
    assert result.returncode == 1
    assert "--folder applies to the Markdown export only" in _one_sentence(result.stderr)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_parts_a_killed_export_left_are_removed_by_the_next_export(
    book: Path, tmp_path: Path, run: Cli, fmt: str
) -> None:
    target = tmp_path / f"book.{fmt}"
    stale = [tmp_path / f".{target.name}.ab12cd34.part", tmp_path / f".{target.name}.zz_9x0qq.part"]
    for part in stale:
        part.write_bytes(b"\0" * 100_000)
    others = {
        tmp_path / ".other.epub.ab12cd34.part": b"another target's",
        tmp_path / "notes.part": b"not ours",
    }
    for path, data in others.items():
        path.write_bytes(data)
    result = run("export", book, "--format", fmt, "--out", target)
    assert result.returncode == 0, result.stderr
    assert not any(part.exists() for part in stale)
    assert all(path.read_bytes() == data for path, data in others.items())
    assert target.is_file()


def test_a_killed_export_leaves_at_most_a_part_and_the_next_one_cleans_it(
    book: Path, tmp_path: Path, run: Cli
) -> None:
    """A real kill: the exporter is stopped with SIGKILL in the middle of its write."""
    target = tmp_path / "book.html"
    target.write_bytes(PREVIOUS)
    script = (
        "import os, signal, sys\n"
        "import coauthor.publish.document as document\n"
        "real = document._Staged.finish\n"
        "def finish(self, write):\n"
        "    real(self, write)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "document._Staged.finish = finish\n"
        "from coauthor.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script, "export", book, "--format", "html", "--out", target],
        capture_output=True,
        env=NO_KEYRING,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert len(parts) == 1
    assert parts[0].name.startswith(".book.html.")
    assert target.read_bytes() == PREVIOUS

    result = run("export", book, "--format", "html", "--out", target)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.html"]
    assert target.read_bytes() != PREVIOUS
