"""A project whose stored runs or counts are not the expected JSON: every command that reads
them says so in one sentence, exits 1 and leaves the file byte for byte as it was.

The file is tampered with ``sqlite3`` as someone editing it by hand would: a chapter's stored
origins (``runs``) or process counts (``process``) replaced by other JSON or by no JSON at
all, or a text event's runs given an origin code that does not exist.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile

Cli = Callable[..., subprocess.CompletedProcess[bytes]]  # the ``cli`` fixture (tests/conftest.py)

NO_KEYRING = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}

TAMPERED = {
    "runs-object": "UPDATE chapters SET runs = '{\"x\":1}'",
    "runs-pairs": "UPDATE chapters SET runs = '[[1,2]]'",
    "runs-not-json": "UPDATE chapters SET runs = 'not json'",
    "runs-null": "UPDATE chapters SET runs = 'null'",
    "process-list": "UPDATE chapters SET process = '[]'",
    "process-not-json": "UPDATE chapters SET process = 'not json'",
    "process-unknown-origin": "UPDATE chapters SET process = '{\"robot\": 3}'",
    # Event 5 is after the chapter's snapshot, so opening the project replays it.
    "event-origin": "UPDATE events SET runs = '[[1,\"z\",null]]' WHERE seq = 5",
    "event-not-json": "UPDATE events SET runs = 'not json' WHERE seq = 5",
}


def commands(path: Path, out: Path) -> dict[str, list[object]]:
    return {
        "verify": ["verify", path],
        "cat": ["cat", path, "--chapter", "1"],
        "stats": ["stats", path],
        "stats --json": ["stats", path, "--json"],
        "log": ["log", path],
        "export": ["export", path, "--format", "markdown", "--out", out],
    }


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A book whose chapter's snapshot is older than its last events."""
    path = tmp_path_factory.mktemp("pristine") / "book.coauthor"
    meta = BookMeta(title="Ledger", author="R. Clerk")
    project_file = ProjectFile.create(path, meta)
    project = Project(meta)
    project.history.coalesce = False
    chapter = project.add_chapter("Accounts")
    project.insert(chapter, 0, "Paid the baker.", Origin.HUMAN)
    project_file.flush(project)  # the chapter's snapshot: after event 3
    project.insert(chapter, 15, " And the smith.", Origin.PASTED)
    project.insert(chapter, 0, "Monday. ", Origin.HUMAN)
    project_file.flush(project)
    project_file.close()  # no new snapshot: events 4 and 5 are replayed on open
    return path


@pytest.mark.parametrize("damage", sorted(TAMPERED))
def test_each_command_says_so_in_one_sentence_and_changes_nothing(
    pristine: Path, tmp_path: Path, cli: Cli, damage: str
) -> None:
    path = tmp_path / "book.coauthor"
    shutil.copyfile(pristine, path)
    connection = sqlite3.connect(path)
    with connection:
        assert connection.execute(TAMPERED[damage]).rowcount >= 1
    connection.close()
    before = path.read_bytes()
    out = tmp_path / "book.md"
    for name, args in commands(path, out).items():
        result = cli(*args, env=NO_KEYRING)
        stderr = result.stderr.decode()
        assert result.returncode == 1, (name, result.stdout, stderr)
        assert len(stderr.splitlines()) == 1, (name, stderr)
        assert stderr.startswith("coauthor: "), (name, stderr)
        assert "Traceback" not in stderr, (name, stderr)
        assert "unexpected error" not in stderr, (name, stderr)
        assert result.stdout == b"", (name, result.stdout)
        assert path.read_bytes() == before, name
        assert sorted(p.name for p in tmp_path.iterdir()) == ["book.coauthor"], name


def test_the_untouched_book_passes_every_command(pristine: Path, tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "book.coauthor"
    shutil.copyfile(pristine, path)
    for name, args in commands(path, tmp_path / "book.md").items():
        result = cli(*args, env=NO_KEYRING)
        assert result.returncode == 0, (name, result.stderr)
    assert (tmp_path / "book.md").is_file()
