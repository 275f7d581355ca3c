"""The command line never prints a book's control characters raw where a person reads them.

A chapter may hold ESC sequences (``\\x1b]52;...`` writes the clipboard of some terminals,
``\\x1b]8;;`` makes links, ``\\x1b[2J`` clears the screen) and C1 controls (``\\x9b`` is a
one-byte CSI). ``log``, ``stats``, ``screen`` and ``review`` show them as ``\\xHH`` always;
``cat`` prints the exact text into a pipe or a file and the escaped text on a terminal.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from coauthor.app.terminal import escape_controls
from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile

Cli = Callable[..., subprocess.CompletedProcess[bytes]]  # the ``cli`` fixture (tests/conftest.py)

HOSTILE = (
    "Dear reader,\x1b]52;c;ZWNobyBwd25lZA==\x07 the tide\x1b[2J turned.\n"
    "\tA bell\x9b31m rang\x00 twice\x7f.\r\n"
)
# Raw control bytes in UTF-8 output: C0 but tab and newline, DEL, C1 (encoded as C2 80-9F).
RAW = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
WAIT_S = 60.0


def raw_controls(data: bytes) -> list[bytes]:
    return RAW.findall(data)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A book whose text holds terminal escapes, one pending AI passage holding some too."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.coauthor"
    meta = BookMeta(title="Tides", author="A. Keeper")
    project_file = ProjectFile.create(path, meta)
    project = Project(meta)
    project.history.coalesce = False
    chapter = project.add_chapter("Bells")
    project.insert(chapter, 0, HOSTILE, Origin.HUMAN)
    generation = project.add_generation(
        Generation(
            project.new_generation_id(),
            "test",
            "test-model",
            {},
            [{"role": "user", "content": "continue\x1b[5m"}],
            "More\x1b[31m red\x9b0m text.",
            Outcome.COMPLETE,
            1,
            1,
            chapter.id,
        )
    )
    project.insert(chapter, len(chapter.text), generation.output, Origin.AI, generation.id)
    project_file.close(project)
    # A title with an escape, written into the chain's chapter fact as a hand-edited file
    # would hold it (the app itself keeps titles free of control characters).
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "UPDATE events SET payload = replace(payload, '\"Bells\"', ?) WHERE kind = 'm'",
            (json.dumps("Bells\x1b[8m\x9b"),),
        )
    connection.close()
    return path


def test_cat_into_a_pipe_is_the_exact_text(hostile: Path, cli: Cli) -> None:
    result = cli("cat", hostile, "--chapter", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith(HOSTILE)


def on_terminal(*args: object) -> tuple[int, bytes]:
    """``coauthor ARGS`` with its output on a pseudo-terminal; (exit code, output)."""
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "coauthor.cli", *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "PYTHONUTF8": "1"},
            close_fds=True,
        )
    finally:
        os.close(slave)
    output = b""
    deadline = time.monotonic() + WAIT_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not data:
                break
            output += data
        return process.wait(timeout=WAIT_S), output
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cat_on_a_terminal_shows_the_escapes(hostile: Path) -> None:
    code, output = on_terminal("cat", hostile, "--chapter", "1")
    assert code == 0, output
    # The terminal's own line discipline turns \n into \r\n; nothing else is raw.
    assert raw_controls(output.replace(b"\r\n", b"\n")) == []
    text = output.decode().replace("\r\n", "\n")
    assert text.startswith(escape_controls(HOSTILE))
    assert "\\x1b]52;c;" in text
    assert "\\x9b31m" in text
    assert "\\x00" in text


@pytest.mark.parametrize(
    "args",
    [
        ("log",),
        ("log", "--chapter", "1"),
        ("stats",),
        ("stats", "--json"),
        ("screen",),
    ],
)
def test_log_stats_and_screen_never_print_raw_controls(
    hostile: Path, cli: Cli, args: tuple[str, ...]
) -> None:
    result = cli(args[0], hostile, *args[1:])
    assert result.returncode == 0, result.stderr
    assert raw_controls(result.stdout) == []
    assert raw_controls(result.stderr) == []
    if args == ("stats", "--json"):
        data = json.loads(result.stdout)  # still JSON, with the same strings
        assert data["chapters"][0]["title"].startswith("Bells")


def test_log_shows_the_escapes_visibly(hostile: Path, cli: Cli) -> None:
    result = cli("log", hostile)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "\\u001b]52;c;" in out  # the inserted text, quoted as JSON
    assert "\\x9b" in out


def test_an_error_naming_book_text_has_no_raw_controls(hostile: Path, cli: Cli) -> None:
    result = cli("cat", hostile, "--chapter", "No\x1b[2Jsuch")
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert raw_controls(result.stderr) == []


def test_review_shows_the_passage_without_raw_controls(hostile: Path, tmp_path: Path) -> None:
    project = tmp_path / "review.coauthor"
    project.write_bytes(hostile.read_bytes())
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "coauthor.cli", "review", project, "--reviewer", "Tester"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "NO_COLOR": "1", "PYTHONUTF8": "1"},
            close_fds=True,
        )
    finally:
        os.close(slave)
    output = b""
    deadline = time.monotonic() + WAIT_S
    try:
        while b"[q]uit? " not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    output += os.read(master, 65536)
                except OSError:
                    break
        assert b"[q]uit? " in output, output
        os.write(master, b"q\n")
        assert process.wait(timeout=WAIT_S) == 0
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    text = output.decode("utf-8", "replace")
    assert "More\\x1b[31m red\\x9b0m text." in text
    assert "Asked: continue\\x1b[5m" in text
    assert raw_controls(output.replace(b"\r\n", b"\n")) == []
