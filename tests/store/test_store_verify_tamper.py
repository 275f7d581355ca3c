"""``coauthor verify`` on imported CoAuthor sessions: it passes, and one changed byte fails it.

The history is hash-chained and the stored chapter text must equal its replay, so editing an
event, its hash, or a chapter's stored text with any SQLite tool is reported, naming the place.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def sessions_project(tmp_path_factory: pytest.TempPathFactory, cli, data_dir: Path) -> Path:
    logs = sorted((data_dir / "coauthor").glob("*.jsonl.gz"))
    assert len(logs) == 12
    project = tmp_path_factory.mktemp("sessions") / "sessions.coauthor"
    result = cli("import", *logs, "--into", project)
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture
def copy(sessions_project: Path, tmp_path: Path) -> Path:
    target = tmp_path / "tampered.coauthor"
    shutil.copyfile(sessions_project, target)
    return target


def _text_events(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT seq FROM events WHERE kind = 'e' AND length(inserted) > 0 ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    return [seq for (seq,) in rows]


def _execute(path: Path, sql: str, *args: object) -> None:
    conn = sqlite3.connect(path)
    try:
        changed = conn.execute(sql, args).rowcount
        conn.commit()
    finally:
        conn.close()
    assert changed == 1


def _failed_verify(cli, path: Path) -> str:
    result = cli("verify", path)
    stderr = result.stderr.decode()
    assert result.returncode == 1, (result.stdout, stderr)
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    assert path.name in stderr
    return stderr


def test_verify_passes_on_every_imported_session(sessions_project: Path, cli) -> None:
    result = cli("verify", sessions_project)
    assert result.returncode == 0, result.stderr
    assert b"OK" in result.stdout
    assert b"12 chapters" in result.stdout


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_changed_event_text_is_named(copy: Path, cli, which: str) -> None:
    events = _text_events(copy)
    seq = {"first": events[0], "middle": events[len(events) // 2], "last": events[-1]}[which]
    _execute(copy, "UPDATE events SET inserted = 'X' WHERE seq = ?", seq)

    stderr = _failed_verify(cli, copy)

    assert f"event {seq} " in stderr


def test_flipped_hash_byte_is_named(copy: Path, cli) -> None:
    seq = _text_events(copy)[200]
    conn = sqlite3.connect(copy)
    (digest,) = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
    conn.close()
    flipped = bytes([digest[0] ^ 0x01]) + bytes(digest[1:])
    _execute(copy, "UPDATE events SET hash = ? WHERE seq = ?", flipped, seq)

    assert f"event {seq} " in _failed_verify(cli, copy)


def test_changed_timestamp_is_named(copy: Path, cli) -> None:
    seq = _text_events(copy)[50]
    _execute(copy, "UPDATE events SET time = time + 1000 WHERE seq = ?", seq)

    assert f"event {seq} " in _failed_verify(cli, copy)


def test_removed_event_is_named(copy: Path, cli) -> None:
    seq = _text_events(copy)[10]
    _execute(copy, "DELETE FROM events WHERE seq = ?", seq)

    assert f"event {seq} " in _failed_verify(cli, copy)


def test_changed_chapter_snapshot_is_detected(copy: Path, cli) -> None:
    """Rewriting a chapter's stored text (what ``cat`` prints) leaves the history behind."""
    original = cli("cat", copy, "--chapter", "3").stdout.decode()
    _execute(
        copy,
        "UPDATE chapters SET text = ? WHERE position = 2 AND removed = 0",
        original.replace("e", "E", 1),
    )
    assert cli("cat", copy, "--chapter", "3").stdout.decode() != original

    stderr = _failed_verify(cli, copy)

    assert "chapter" in stderr
    assert "differs" in stderr


def test_changed_origin_of_stored_text_is_detected(copy: Path, cli) -> None:
    """Relabelling AI text as the author's in the snapshot is caught by the replay."""
    conn = sqlite3.connect(copy)
    cid, runs = conn.execute("SELECT id, runs FROM chapters WHERE runs LIKE '%\"a\"%'").fetchone()
    conn.close()
    _execute(copy, "UPDATE chapters SET runs = ? WHERE id = ?", runs.replace('"a"', '"h"'), cid)

    stderr = _failed_verify(cli, copy)

    assert f"chapter {cid}" in stderr
    assert "origins" in stderr


@pytest.mark.parametrize("code", ["h", "z"], ids=["ai-relabelled-human", "unknown-origin"])
def test_changed_origin_of_an_event_is_named(copy: Path, cli, code: str) -> None:
    conn = sqlite3.connect(copy)
    (seq,) = conn.execute(
        "SELECT seq FROM events WHERE origin = 'a' ORDER BY seq LIMIT 1 OFFSET 3"
    ).fetchone()
    conn.close()
    _execute(copy, "UPDATE events SET origin = ? WHERE seq = ?", code, seq)

    assert f"event {seq} " in _failed_verify(cli, copy)


def test_changed_writing_statistics_are_shown_until_verify_names_them(copy: Path, cli) -> None:
    """The statistics' summary the file keeps is what ``stats`` shows (like the chapter
    snapshots, it is what makes a long book quick to open); editing it, chain hash kept, is
    caught by ``verify`` as any other table beside the chain, and ``--no-cache`` reads the
    history itself."""
    honest = cli(
        "stats", copy, "--by-day", env={**os.environ, "COAUTHOR_CACHE_DIR": str(copy.parent / "c")}
    )
    assert honest.returncode == 0, honest.stderr
    conn = sqlite3.connect(copy)
    (value,) = conn.execute("SELECT value FROM meta WHERE key = 'statistics'").fetchone()
    record = json.loads(value)
    tally = json.loads(record["tally"])
    tally["segments"][-1][3] += 1_000_000  # words typed
    record["tally"] = json.dumps(tally)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'statistics'", (json.dumps(record),))
    conn.commit()
    conn.close()
    forged = cli(
        "stats", copy, "--by-day", env={**os.environ, "COAUTHOR_CACHE_DIR": str(copy.parent / "d")}
    )
    assert forged.returncode == 0, forged.stderr
    assert forged.stdout != honest.stdout
    # --no-cache reads the whole history and prints what it says.
    assert cli("stats", copy, "--by-day", "--no-cache").stdout == honest.stdout

    stderr = _failed_verify(cli, copy)

    assert "writing statistics stored in the file" in stderr
    assert "differ from the history" in stderr
