"""Files Coauthor cannot use: one clear sentence, exit 1, and the file left exactly as it was.

Each bad file goes through the real ``coauthor`` command in a subprocess (every read command and
an import into it) and through the Python API. Read-only files are the exception that works:
read commands open them read-only; only writing is refused, with a sentence saying why.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from coauthor.store import SCHEMA_VERSION, ProjectFile, ProjectFileError

READ_COMMANDS = {
    "stats": ["stats", "{p}"],
    "cat": ["cat", "{p}", "--chapter", "1"],
    "verify": ["verify", "{p}"],
    "replay": ["replay", "{p}", "--chapter", "1", "--event", "1"],
    "log": ["log", "{p}"],
}
ALL_COMMANDS = {**READ_COMMANDS, "import": ["import", "{src}", "--into", "{p}"]}

MARKDOWN = "".join(
    f"# Chapter {n}\n\n"
    + f"Paragraph {n} of a book that has enough text to fill pages. " * 200
    + "\n\n"
    for n in range(1, 6)
)


@pytest.fixture(scope="module")
def good_project(tmp_path_factory: pytest.TempPathFactory, cli) -> Path:
    """A real project made by ``coauthor import``: several pages, five chapters."""
    folder = tmp_path_factory.mktemp("good")
    source = folder / "book.md"
    source.write_text(MARKDOWN, encoding="utf-8")
    project = folder / "good.coauthor"
    result = cli("import", source, "--into", project)
    assert result.returncode == 0, result.stderr
    assert project.stat().st_size > 8 * 4096
    return project


def _fingerprint(path: Path) -> tuple[str, int, int]:
    info = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), info.st_mtime_ns, info.st_mode


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _make_truncated(good: Path, target: Path) -> None:
    data = good.read_bytes()
    target.write_bytes(data[: len(data) // 2])


def _make_truncated_header(good: Path, target: Path) -> None:
    target.write_bytes(good.read_bytes()[:60])


def _make_random(good: Path, target: Path) -> None:
    target.write_bytes(os.urandom(64 * 1024))


def _make_empty(good: Path, target: Path) -> None:
    target.write_bytes(b"")


def _make_foreign(good: Path, target: Path) -> None:
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE recipes (name TEXT, steps TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('bread', 'knead')")
    conn.commit()
    conn.close()


def _make_newer(good: Path, target: Path) -> None:
    shutil.copyfile(good, target)
    conn = sqlite3.connect(target)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


def _make_damaged_inside(good: Path, target: Path) -> None:
    """A sound header but the history's table overwritten with garbage (a bad disk sector)."""
    shutil.copyfile(good, target)
    conn = sqlite3.connect(target)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    conn.close()
    with target.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xa5" * page_size)


def _make_undecodable(good: Path, target: Path) -> None:
    """A chapter's stored text that is not UTF-8 (and has line breaks, as chapters do)."""
    shutil.copyfile(good, target)
    conn = sqlite3.connect(target)
    conn.execute(
        "UPDATE chapters SET text = CAST(? AS TEXT) WHERE id = 1",
        (b"Line one\nLine two\n\xff\xfe\n",),
    )
    conn.commit()
    conn.close()


DAMAGED_INSIDE = {"history-page": _make_damaged_inside, "undecodable-text": _make_undecodable}

BAD_FILES = {
    "truncated": (_make_truncated, "truncated"),
    "truncated-header": (_make_truncated_header, "truncated"),
    "random-bytes": (_make_random, "not a Coauthor project"),
    "empty": (_make_empty, "empty"),
    "foreign-sqlite": (_make_foreign, "not a Coauthor project"),
    "newer-version": (_make_newer, "newer version"),
}


def _assert_one_clear_line(result, path: Path, *, words: str | None = None) -> str:
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert path.name in lines[0]
    if words is not None:
        assert words.lower() in lines[0].lower()
    return lines[0]


@pytest.mark.parametrize("command", sorted(ALL_COMMANDS))
@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_gets_one_sentence_and_is_left_alone(
    tmp_path: Path, good_project: Path, cli, kind: str, command: str
) -> None:
    make, words = BAD_FILES[kind]
    bad = tmp_path / f"{kind}.coauthor"
    make(good_project, bad)
    source = tmp_path / "more.md"
    source.write_text("# New\n\nNew text.\n", encoding="utf-8")
    before, files_before = _fingerprint(bad), _listing(tmp_path)

    args = [a.format(p=bad, src=source) for a in ALL_COMMANDS[command]]
    result = cli(*args)

    _assert_one_clear_line(result, bad, words=words)
    assert result.stdout == b""
    assert _fingerprint(bad) == before
    assert _listing(tmp_path) == files_before  # no -wal, -shm, -journal, lock or backup left


@pytest.mark.parametrize("command", sorted(ALL_COMMANDS))
@pytest.mark.parametrize("damage", sorted(DAMAGED_INSIDE))
def test_file_damaged_inside_gets_one_sentence(
    tmp_path: Path, good_project: Path, cli, damage: str, command: str
) -> None:
    """A readable header over damaged contents: no command shows a traceback or more."""
    bad = tmp_path / "damaged.coauthor"
    DAMAGED_INSIDE[damage](good_project, bad)
    source = tmp_path / "more.md"
    source.write_text("# New\n\nNew text.\n", encoding="utf-8")
    before = bad.read_bytes()

    result = cli(*[a.format(p=bad, src=source) for a in ALL_COMMANDS[command]])

    _assert_one_clear_line(result, bad, words="damaged")
    after = bad.read_bytes()
    if command == "import":
        # Opening for writing switches the journal mode and back, which bumps the header's
        # change counter; nothing past the 100-byte header may change.
        assert after[100:] == before[100:]
    else:
        assert after == before


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
@pytest.mark.parametrize("readonly", [True, False], ids=["read-only", "read-write"])
def test_bad_file_through_the_api(
    tmp_path: Path, good_project: Path, kind: str, readonly: bool
) -> None:
    make, words = BAD_FILES[kind]
    bad = tmp_path / f"{kind}.coauthor"
    make(good_project, bad)
    before, files_before = _fingerprint(bad), _listing(tmp_path)

    with pytest.raises(ProjectFileError) as caught:
        ProjectFile.open(bad, readonly=readonly)

    message = str(caught.value)
    assert bad.name in message
    assert words.lower() in message.lower()
    assert "\n" not in message
    assert _fingerprint(bad) == before
    assert _listing(tmp_path) == files_before


def test_missing_file_is_named(tmp_path: Path, cli) -> None:
    missing = tmp_path / "nowhere.coauthor"
    for args in (["stats", missing], ["verify", missing], ["cat", missing, "--chapter", "1"]):
        _assert_one_clear_line(cli(*args), missing, words="does not exist")
    assert not missing.exists()


# -- read-only files --------------------------------------------------------------------------


@pytest.fixture
def read_only_project(tmp_path: Path, good_project: Path):
    project = tmp_path / "locked.coauthor"
    shutil.copyfile(good_project, project)
    project.chmod(0o444)
    yield project
    project.chmod(0o644)


@pytest.mark.parametrize("command", sorted(READ_COMMANDS))
def test_read_commands_work_on_a_read_only_file(
    tmp_path: Path, read_only_project: Path, good_project: Path, cli, command: str
) -> None:
    before, files_before = _fingerprint(read_only_project), _listing(tmp_path)

    result = cli(*[a.format(p=read_only_project) for a in READ_COMMANDS[command]])
    reference = cli(*[a.format(p=good_project) for a in READ_COMMANDS[command]])

    assert result.returncode == 0, result.stderr
    if command != "verify":  # verify names the file it checked
        assert result.stdout == reference.stdout
    assert _fingerprint(read_only_project) == before
    assert _listing(tmp_path) == files_before


def test_import_into_a_read_only_file_is_refused(
    tmp_path: Path, read_only_project: Path, cli
) -> None:
    source = tmp_path / "more.md"
    source.write_text("# New\n\nNew text.\n", encoding="utf-8")
    before, files_before = _fingerprint(read_only_project), _listing(tmp_path)

    result = cli("import", source, "--into", read_only_project)

    _assert_one_clear_line(result, read_only_project, words="read-only")
    assert _fingerprint(read_only_project) == before
    assert _listing(tmp_path) == files_before


def test_read_only_file_through_the_api(read_only_project: Path, tmp_path: Path) -> None:
    before, files_before = _fingerprint(read_only_project), _listing(tmp_path)

    with pytest.raises(ProjectFileError, match="read-only"):
        ProjectFile.open(read_only_project)
    project_file = ProjectFile.open(read_only_project, readonly=True)
    try:
        project = project_file.load()
    finally:
        project_file.close()

    assert [c.title for c in project.chapters] == [f"Chapter {n}" for n in range(1, 6)]
    assert _fingerprint(read_only_project) == before
    assert _listing(tmp_path) == files_before
