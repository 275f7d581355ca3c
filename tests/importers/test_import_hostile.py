"""Hostile sources through the real ``coauthor import``: bounded memory and time, one sentence
on stderr naming the line at fault, exit 1, and the target project left exactly as it was.

Memory is the child's own peak resident set (VmHWM read from /proc as it exits), so a test sees
what a user's machine would, whatever the memory of the pytest process that starts it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from coauthor.importers.textfiles import MAX_CHAPTERS

MB = 1 << 20
INIT = {
    "eventName": "system-initialize",
    "eventSource": "api",
    "eventTimestamp": 1629645831556,
    "textDelta": "",
    "currentDoc": "Hello world.\n",
    "eventNum": 0,
}


def _event(ops: list[object], **fields: object) -> dict:
    event = {
        "eventName": "text-insert",
        "eventSource": "user",
        "eventTimestamp": 1629645834773,
        "textDelta": {"ops": ops},
        "eventNum": 1,
    }
    event.update(fields)
    return event


def _write_log(path: Path, *events: dict) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


@dataclass
class Run:
    code: int
    stderr: str
    seconds: float
    peak_mb: float


# ``coauthor ARGS`` whose peak resident set is written to a file at exit. It is read from
# /proc (VmHWM, the image's own high-water mark): ``ru_maxrss`` of a child would also count the
# parent's memory, which the child inherits until it execs.
_PEAK_RUNNER = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(os.environ["COAUTHOR_PEAK_FILE"], "w") as out:
        out.write(str(kb))
atexit.register(_peak)
sys.argv = ["coauthor", *sys.argv[1:]]
runpy.run_module("coauthor.cli", run_name="__main__", alter_sys=True)
"""


def _measured(tmp_path: Path, *args: object) -> Run:
    """``coauthor ARGS`` in a child process, with its own peak RSS and wall time."""
    peak = tmp_path / "peak-kb.txt"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_RUNNER, *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "COAUTHOR_PEAK_FILE": str(peak)},
        timeout=120,
        check=False,
    )
    seconds = time.perf_counter() - start
    peak_mb = int(peak.read_text()) / 1024
    return Run(result.returncode, result.stderr.decode("utf-8", "replace"), seconds, peak_mb)


def _refused(run: Run, *phrases: str) -> None:
    """Exit 1 and one line on stderr holding every phrase, no traceback, no 'unexpected'."""
    assert run.code == 1, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert "unexpected" not in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


@pytest.fixture
def existing(tmp_path: Path, cli) -> tuple[Path, str]:
    """A project with one imported chapter, and the hash of its file's bytes."""
    project = tmp_path / "book.coauthor"
    source = tmp_path / "first.md"
    source.write_text("# One\n\nThe first chapter.\n", encoding="utf-8")
    result = cli("import", source, "--into", project)
    assert result.returncode == 0, result.stderr
    return project, _digest(project)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unchanged(project: Path, digest: str) -> None:
    assert _digest(project) == digest
    assert not list(project.parent.glob("*.importing"))


# -- CoAuthor logs: size -------------------------------------------------------------------------


def test_gzip_bomb_of_newlines_is_read_in_bounded_memory(tmp_path: Path) -> None:
    # 30 MB of newlines between two events (30 KB gzipped): read whole, this took ~10x that.
    log = tmp_path / "bomb.jsonl.gz"
    blank = 30 * MB
    with gzip.open(log, "wb", compresslevel=9) as out:
        out.write((json.dumps(INIT) + "\n").encode())
        for _ in range(blank // MB):
            out.write(b"\n" * MB)
        out.write((json.dumps(_event([{"retain": 13}, {"insert": "Bye."}])) + "\n").encode())
    assert log.stat().st_size < 100_000
    project = tmp_path / "bomb.coauthor"

    run = _measured(tmp_path, "import", log, "--into", project)

    assert run.code == 0, run.stderr
    assert run.peak_mb < 100, f"peak RSS {run.peak_mb:.0f} MB"
    assert run.seconds < 30


def test_newline_bomb_still_names_the_right_line(tmp_path: Path, cli) -> None:
    log = tmp_path / "bomb.jsonl.gz"
    with gzip.open(log, "wb") as out:
        out.write((json.dumps(INIT) + "\n").encode())
        out.write(b"\n" * (5 * MB) + b"\r\n  \t\n")
        out.write(b"{not json}\n")
    project = tmp_path / "bomb.coauthor"

    result = cli("import", log, "--into", project)

    line = 1 + 5 * MB + 2 + 1
    _refused(_as_run(result), f"line {line:d} is not valid JSON")
    assert not project.exists()


def test_gzip_of_only_newlines_is_not_a_session(tmp_path: Path) -> None:
    log = tmp_path / "empty.jsonl.gz"
    with gzip.open(log, "wb", compresslevel=9) as out:
        for _ in range(20):
            out.write(b"\n" * MB)
    run = _measured(tmp_path, "import", log, "--into", tmp_path / "empty.coauthor")
    _refused(run, "is not a CoAuthor session log")
    assert run.peak_mb < 100, f"peak RSS {run.peak_mb:.0f} MB"


def test_a_line_over_64_mb_is_refused_naming_it(tmp_path: Path, existing) -> None:
    project, digest = existing
    log = tmp_path / "long.jsonl.gz"
    squeeze = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip framing
    with log.open("wb") as out:
        out.write(squeeze.compress((json.dumps(INIT) + "\n\n").encode()))
        out.write(
            squeeze.compress(b'{"eventName": "text-insert", "textDelta": {"ops": [{"insert": "')
        )
        block = b"a" * MB
        for _ in range(65):
            out.write(squeeze.compress(block))
        out.write(squeeze.compress(b'"}]}}\n'))
        out.write(squeeze.flush())
    assert log.stat().st_size < 1 * MB

    run = _measured(tmp_path, "import", log, "--into", project)

    _refused(run, "line 3 ", "longer than 64 MB")
    assert run.peak_mb < 250, f"peak RSS {run.peak_mb:.0f} MB"
    _unchanged(project, digest)


def test_a_damaged_gzip_is_one_sentence(tmp_path: Path, cli) -> None:
    log = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(("".join(json.dumps(INIT) + "\n" for _ in range(200))).encode())
    log.write_bytes(data[: len(data) // 2])
    _refused(_as_run(cli("import", log, "--into", tmp_path / "cut.coauthor")), "damaged gzip")


def _as_run(result: subprocess.CompletedProcess[bytes]) -> Run:
    return Run(result.returncode, result.stderr.decode("utf-8", "replace"), 0.0, 0.0)


# -- CoAuthor logs: bad events -------------------------------------------------------------------

BAD_EVENTS = {
    "delete past the end": (
        _event([{"retain": 10}, {"delete": 5}], eventName="text-delete"),
        "deletes past the end of the text",
    ),
    "delete past the end from the start": (
        _event([{"delete": 14}], eventName="text-delete"),
        "deletes past the end of the text",
    ),
    "retain past the end": (
        _event([{"retain": 14}, {"insert": "x"}]),
        "retains past the end of the text",
    ),
    "retain past the end after an insert": (
        _event([{"insert": "ab"}, {"retain": 16}, {"insert": "x"}]),
        "retains past the end of the text",
    ),
    "negative retain": (_event([{"retain": -1}, {"insert": "x"}]), "not a count of characters"),
    "retain of 1e400": (_event([{"retain": 1e400}]), "not a count of characters"),
    "retain as text": (_event([{"retain": "3"}, {"insert": "x"}]), "not a count of characters"),
    "op that is not an object": (_event([3]), "op that is not an object"),
    "eventTimestamp nan": (
        _event([{"insert": "x"}], eventTimestamp="nan"),
        'eventTimestamp "nan" is not a finite number',
    ),
    "eventTimestamp inf": (
        _event([{"insert": "x"}], eventTimestamp="inf"),
        'eventTimestamp "inf" is not a finite number',
    ),
    "eventTimestamp past 64 bits": (
        _event([{"insert": "x"}], eventTimestamp=2**70),
        "eventTimestamp 1180591620717411303424 is not a finite number",
    ),
    "eventNum 1e400": (
        _event([{"insert": "x"}], eventNum="1e400"),
        'eventNum "1e400" is not a finite number',
    ),
    "eventNum a word": (
        _event([{"insert": "x"}], eventNum="seven"),
        'eventNum "seven" is not a finite number',
    ),
    "second initialisation": (dict(INIT), "initialised a second time"),
    "deeply nested JSON": (None, "line 2 is not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
def test_a_bad_event_is_one_sentence_naming_its_line(
    tmp_path: Path, cli, existing, case: str
) -> None:
    project, digest = existing
    event, phrase = BAD_EVENTS[case]
    log = tmp_path / "bad.jsonl"
    if event is None:
        log.write_text(json.dumps(INIT) + "\n" + "[" * 100_000 + "\n", encoding="utf-8")
    else:
        _write_log(log, INIT, event)

    result = cli("import", log, "--into", project)

    _refused(_as_run(result), f"{log} line 2", phrase)
    _unchanged(project, digest)


def test_the_events_after_blank_lines_keep_their_numbers(tmp_path: Path, cli) -> None:
    log = tmp_path / "gaps.jsonl"
    log.write_text(
        json.dumps(INIT)
        + "\n\n\n"
        + json.dumps(_event([{"retain": 13}, {"insert": "Bye."}]))
        + "\n  \n"
        + json.dumps(_event([{"delete": 99}], eventName="text-delete"))
        + "\n",
        encoding="utf-8",
    )
    _refused(_as_run(cli("import", log, "--into", tmp_path / "g.coauthor")), "line 6:")


def test_non_finite_parameters_are_left_out(tmp_path: Path, cli) -> None:
    log = _write_log(
        tmp_path / "params.jsonl",
        INIT,
        _event(
            [{"retain": 13}, {"insert": "Suggested."}],
            eventSource="api",
            currentTemperature="nan",
            currentTopP="1e400",
            currentN="5",
        ),
    )
    project = tmp_path / "params.coauthor"
    result = cli("import", log, "--into", project)
    assert result.returncode == 0, result.stderr
    from coauthor.store import ProjectFile

    project_file = ProjectFile.open(project, readonly=True)
    try:
        loaded = project_file.load()
    finally:
        project_file.close()
    (generation,) = loaded.generations.values()
    assert generation.parameters == {"n": 5}
    assert generation.output == "Suggested."


def test_the_record_hash_is_the_files(tmp_path: Path, cli, data_dir: Path) -> None:
    log = next(iter(sorted((data_dir / "coauthor").glob("*.jsonl.gz"))))
    project = tmp_path / "one.coauthor"
    assert cli("import", log, "--into", project).returncode == 0
    from coauthor.store import ProjectFile

    project_file = ProjectFile.open(project, readonly=True)
    try:
        loaded = project_file.load()
    finally:
        project_file.close()
    (record,) = loaded.imports.values()
    assert record.sha256 == hashlib.sha256(log.read_bytes()).hexdigest()


# -- Markdown and plain text: the chapter limit --------------------------------------------------


def test_a_million_headings_are_refused_quickly(tmp_path: Path, existing) -> None:
    project, digest = existing
    source = tmp_path / "many.md"
    with source.open("w", encoding="utf-8") as out:
        for n in range(1_000_000):
            out.write(f"# Chapter {n}\n\nA line.\n\n")

    run = _measured(tmp_path, "import", source, "--into", project)

    _refused(run, str(source), f"more than {MAX_CHAPTERS:,} chapters")
    assert run.seconds < 15
    assert run.peak_mb < 1500
    _unchanged(project, digest)


def test_one_heading_past_the_limit_is_refused(tmp_path: Path, cli) -> None:
    source = tmp_path / "many.md"
    source.write_text(
        "".join(f"## Part {n}\n\nText.\n\n" for n in range(MAX_CHAPTERS + 1)), encoding="utf-8"
    )
    result = cli("import", source, "--into", tmp_path / "many.coauthor")
    _refused(_as_run(result), f"more than {MAX_CHAPTERS:,} chapters")
    assert not (tmp_path / "many.coauthor").exists()


def test_plain_text_chapters_past_the_limit_are_refused(tmp_path: Path, cli) -> None:
    source = tmp_path / "many.txt"
    source.write_text(
        "".join(f"Chapter {n}\n\nText.\n\n" for n in range(MAX_CHAPTERS + 1)), encoding="utf-8"
    )
    result = cli("import", source, "--into", tmp_path / "many.coauthor")
    _refused(_as_run(result), f"more than {MAX_CHAPTERS:,} chapters")


def test_many_lower_headings_under_one_top_heading_are_one_chapter(tmp_path: Path, cli) -> None:
    # The limit counts chapters, not headings: these split on the single '#'.
    source = tmp_path / "deep.md"
    body = "".join(f"## Section {n}\n\nText.\n\n" for n in range(MAX_CHAPTERS + 5))
    source.write_text("# The Book\n\n" + body, encoding="utf-8")
    project = tmp_path / "deep.coauthor"
    result = cli("import", source, "--into", project)
    assert result.returncode == 0, result.stderr
    assert b"as 1 chapter" in result.stderr


def test_exactly_the_limit_imports(tmp_path: Path, cli) -> None:
    source = tmp_path / "limit.md"
    source.write_text(
        "".join(f"# Chapter {n}\n\nText {n}.\n\n" for n in range(MAX_CHAPTERS)), encoding="utf-8"
    )
    result = cli("import", source, "--into", tmp_path / "limit.coauthor")
    assert result.returncode == 0, result.stderr
    assert f"as {MAX_CHAPTERS} chapters".encode() in result.stderr
