"""Record a real editing trace as project history in a project file, and print the figures.

The trace is the Automerge paper (``data/traces/automerge-paper.json.gz``): 259,778 single-character
edits (patches ``[pos, ndel, ins]``) that type a 104,852-character LaTeX paper. They are recorded
into one chapter of a fresh project through ``Project.delete`` and ``Project.insert``, with the
trace's own timestamps (converted to epoch milliseconds before timing), and written with
``ProjectFile.flush`` every 100 operations, as an editor saving every few keystrokes would.
Every 2,000 operations the origin switches between ``HUMAN`` and ``AI``; each AI block is one
``Generation`` (added with ``Project.add_generation`` when the block starts, inside the timing).

Timed, with ``time.perf_counter`` (``gc.collect()`` before each run, the collector left on):
everything from the first operation to the end of ``ProjectFile.close``, which writes the final
snapshot, divided by the number of operations. Then the file is opened again, its chapter is
compared with the trace's ``endContent`` (and its runs with the recording's), and
``coauthor.store.verify.verify`` replays the whole stored history (timed, not a target).

Two configurations: the default one, where ``History`` coalesces a typing burst (or a run of
backspaces) into one pending event until it is flushed, and one with ``history.coalesce = False``
(one stored event per operation), for information. The targets apply to the default.

Run: ``.venv/bin/python bench/store.py [--json]``. The exit code is 0 whatever the figures: this
is a report, not a test.
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))  # benchlib, after the standard library
from benchlib import TRACE, Op, load_trace, print_targets, table, targets_json

try:
    from coauthor.core.book import BookMeta
    from coauthor.core.generation import Generation
    from coauthor.core.origin import Origin
    from coauthor.core.project import Project
    from coauthor.store.projectfile import ProjectFile
    from coauthor.store.verify import verify
except ImportError:  # not installed in this interpreter: use the checkout this file is in
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from coauthor.core.book import BookMeta
    from coauthor.core.generation import Generation
    from coauthor.core.origin import Origin
    from coauthor.core.project import Project
    from coauthor.store.projectfile import ProjectFile
    from coauthor.store.verify import verify

BLOCK = 2_000  # operations between origin switches
FLUSH_EVERY = 100  # operations between flushes

# Targets (default configuration).
MAX_US_PER_OP = 10.0
MAX_FILE_BYTES = 10_000_000  # 10 MB


def fail(message: str) -> None:
    raise SystemExit(f"store: FAILED VERIFICATION: {message}")


@dataclass
class Run:
    name: str
    coalesce: bool
    ops: int
    seconds: float  # first operation to the end of close
    flush_seconds: float  # of which in flush (every 100 operations)
    close_seconds: float  # of which in close (final snapshot, checkpoint)
    events: int  # stored events, all kinds
    edit_events: int  # stored text events
    file_bytes: int
    reopen_seconds: float  # ProjectFile.open + load
    verify_seconds: float
    verify_message: str
    note: str

    @property
    def us_per_op(self) -> float:
        return self.seconds / self.ops * 1e6

    @property
    def ops_per_event(self) -> float:
        return self.ops / self.edit_events

    def as_dict(self) -> dict:
        return {
            "coalesce": self.coalesce,
            "ops": self.ops,
            "seconds": round(self.seconds, 6),
            "us_per_op": round(self.us_per_op, 4),
            "flush_seconds": round(self.flush_seconds, 6),
            "close_seconds": round(self.close_seconds, 6),
            "events": self.events,
            "edit_events": self.edit_events,
            "ops_per_edit_event": round(self.ops_per_event, 3),
            "file_bytes": self.file_bytes,
            "reopen_seconds": round(self.reopen_seconds, 6),
            "verify_seconds": round(self.verify_seconds, 6),
            "verify": self.verify_message,
            "note": self.note,
        }


def record(path: Path, ops: list[Op], coalesce: bool) -> tuple[float, float, float, Project]:
    """Record the trace into a fresh project file; (total, flush, close) seconds and the project."""
    now = [ops[0][3]]
    project = Project(BookMeta(title="Automerge paper"), clock=lambda: now[0])
    project.history.coalesce = coalesce
    project_file = ProjectFile.create(path, project.meta)
    chapter = project.add_chapter("Paper")
    project_file.flush(project)  # the chapter exists before the timing starts

    insert = project.insert
    delete = project.delete
    flush = project_file.flush
    perf = time.perf_counter
    flush_seconds = 0.0
    gc.collect()
    t0 = perf()
    for start in range(0, len(ops), FLUSH_EVERY):
        block = start // BLOCK
        if block % 2:
            origin, ref = Origin.AI, f"g{block}"
            if start % BLOCK == 0:
                now[0] = ops[start][3]
                project.add_generation(
                    Generation(
                        ref,
                        "bench",
                        "trace",
                        created=now[0],
                        finished=now[0],
                        chapter_id=chapter.id,
                    )
                )
        else:
            origin, ref = Origin.HUMAN, None
        for pos, ndel, ins, when in ops[start : start + FLUSH_EVERY]:
            if ndel:
                delete(chapter, pos, ndel, time=when)
            if ins:
                insert(chapter, pos, ins, origin, ref, time=when)
        f0 = perf()
        flush(project)
        flush_seconds += perf() - f0
    c0 = perf()
    project_file.close(project)
    end = perf()
    return end - t0, flush_seconds, end - c0, project


def bench(ops: list[Op], expected: str, *, coalesce: bool, repeats: int, folder: Path) -> Run:
    name = "coalescing on (default)" if coalesce else "coalescing off"
    best: tuple[float, float, float] | None = None
    path = folder / ("coalesced.coauthor" if coalesce else "uncoalesced.coauthor")
    project = None
    for _ in range(repeats):
        for stale in folder.glob(path.name + "*"):
            stale.unlink()
        *times, project = record(path, ops, coalesce)
        if best is None or times[0] < best[0]:
            best = (times[0], times[1], times[2])
    assert best is not None
    assert project is not None
    recorded = project.chapters[0]
    if recorded.text.text != expected:
        fail(f"{name}: the recorded chapter differs from the trace's endContent")

    file_bytes = path.stat().st_size
    for suffix in ("-wal", "-shm", "-journal"):
        if path.with_name(path.name + suffix).exists():
            fail(f"{name}: close left a {suffix} file beside the project")
    with sqlite3.connect(path) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        edit_events = conn.execute("SELECT count(*) FROM events WHERE kind = 'e'").fetchone()[0]
    conn.close()

    gc.collect()
    r0 = time.perf_counter()
    project_file = ProjectFile.open(path, readonly=True)
    try:
        loaded = project_file.load()
        reopen_seconds = time.perf_counter() - r0
        if [c.text.text for c in loaded.chapters] != [expected]:
            fail(f"{name}: the reopened chapter differs from the trace's endContent")
        chapter = loaded.chapters[0]
        if list(chapter.text.runs()) != list(recorded.text.runs()):
            fail(f"{name}: the reopened chapter's runs differ from the recorded ones")
        if chapter.process != recorded.process:
            fail(f"{name}: the reopened chapter's process figures differ from the recorded ones")
        chapter.text.check_invariants()
        gc.collect()
        v0 = time.perf_counter()
        result = verify(project_file)
        verify_seconds = time.perf_counter() - v0
    finally:
        project_file.close()
    if not result.ok:
        fail(f"{name}: verify: {result.message}")
    note = f"best of {repeats}" if repeats > 1 else "1 run"
    return Run(
        name,
        coalesce,
        len(ops),
        best[0],
        best[1],
        best[2],
        events,
        edit_events,
        file_bytes,
        reopen_seconds,
        verify_seconds,
        result.message,
        note,
    )


# -- report -----------------------------------------------------------------------------------


def print_table(runs: list[Run]) -> None:
    headers = (
        "configuration",
        "ops",
        "seconds",
        "µs/op",
        "flush s",
        "close s",
        "edit events",
        "ops/event",
        "file MB",
        "reopen s",
        "verify s",
        "notes",
    )
    rows = [
        (
            r.name,
            f"{r.ops:,}",
            f"{r.seconds:.3f}",
            f"{r.us_per_op:.2f}",
            f"{r.flush_seconds:.3f}",
            f"{r.close_seconds:.3f}",
            f"{r.edit_events:,}",
            f"{r.ops_per_event:.2f}",
            f"{r.file_bytes / 1e6:.2f}",
            f"{r.reopen_seconds:.3f}",
            f"{r.verify_seconds:.3f}",
            r.note,
        )
        for r in runs
    ]
    table(headers, rows, left=(0, len(headers) - 1))
    print(
        "seconds: first operation to the end of close (flush s and close s are part of it);"
        " file MB: 10^6 bytes after close;\nreopen s: ProjectFile.open + load; verify s:"
        " coauthor.store.verify.verify (hash chain and a replay of the whole history)."
    )
    for r in runs:
        print(f"{r.name}: {r.events:,} events stored in all ({r.verify_message})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--repeats", type=int, default=3, help="recordings per configuration")
    parser.add_argument(
        "--dir", type=Path, default=None, help="folder for the project files (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    repeats = max(1, args.repeats)

    ops, expected = load_trace()
    span = (ops[-1][3] - ops[0][3]) / 1000
    print(
        f"trace: {TRACE.name}, {len(ops):,} ops over {span:.3f} s of trace time, final text "
        f"{len(expected):,} chars; origin switches every {BLOCK:,} ops; flush every "
        f"{FLUSH_EVERY} ops"
    )
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, gc enabled\n")

    with tempfile.TemporaryDirectory(prefix="coauthor-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        default = bench(ops, expected, coalesce=True, repeats=repeats, folder=folder)
        plain = bench(ops, expected, coalesce=False, repeats=repeats, folder=folder)
    runs = [default, plain]
    print_table(runs)

    checks = [
        (
            f"<= {MAX_US_PER_OP:g} µs per operation amortised (default)",
            default.us_per_op <= MAX_US_PER_OP,
            f"{default.us_per_op:.2f} µs/op ({default.seconds:.3f} s for {default.ops:,} ops)",
        ),
        (
            f"file <= {MAX_FILE_BYTES / 1e6:g} MB (default)",
            default.file_bytes <= MAX_FILE_BYTES,
            f"{default.file_bytes / 1e6:.2f} MB ({default.file_bytes:,} bytes)",
        ),
    ]
    print_targets(checks)
    print(
        f"  info  coalescing: {default.edit_events:,} edit events for {default.ops:,} ops "
        f"({default.ops_per_event:.2f} ops per event); without it {plain.us_per_op:.2f} µs/op, "
        f"{plain.file_bytes / 1e6:.2f} MB"
    )

    if args.json:
        report = {
            "trace": TRACE.name,
            "ops": len(ops),
            "block": BLOCK,
            "flush_every": FLUSH_EVERY,
            "results": {"coalesced": default.as_dict(), "uncoalesced": plain.as_dict()},
            "targets": targets_json(checks),
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
