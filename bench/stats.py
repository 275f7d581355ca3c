"""Summarise a long history into writing statistics by day, and print the figures.

The project is ``bench/open.py``'s (not timed): *Pride and Prejudice* imported (61 chapters),
then 500,000 synthetic edit events (typing, backspaces, replacements, accepted generations,
pastes; coalescing off, fixed seed), flushed every 5,000.

Timed, best of N (``gc.collect()`` before each run):

* **cold**: ``app.statistics.summarise`` with no cache: every text event read from SQLite
  (``store.activity``) and fed to ``core.daily.Tally``, then ``by_day``. Reported apart: the
  SQLite read alone and the summary alone.
* **cached**: the same call with the summary cached (as after the first run on this machine,
  or the app's first open): the cache read, checked against the chain hash of its last event,
  no new event; then ``by_day``. This is what the Statistics view and ``stats --by-day`` cost
  on every later open.
* **catch-up**: the summary cached up to 5,000 events before the end, then those 5,000 read
  and fed, then ``by_day`` (a book reopened after a day's writing).
* ``coauthor stats --by-day`` as a new process, cache warm (for information; start-up
  included).

The cold figure misses the 0.5 s target: SQLite hands Python one row at a time, and reading the
500,000 rows alone takes longer than that. That is why ``app.statistics`` caches the summary
(outside the project, checked against the chain), so that only the first summary of a book on a
machine pays for it. The app computes that first summary in a worker thread.

Checked: the cached and caught-up summaries equal the cold one; the characters inserted by
origin equal a count from whole events (``ProjectFile.events``) and the chapters' process
measure.

Run: ``.venv/bin/python -P bench/stats.py [--json]``. Building takes 20-30 s.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))  # benchlib, after the standard library
from benchlib import Check, print_targets, table, targets_json

try:
    from coauthor.app.statistics import cache_file, summarise
    from coauthor.core.daily import Tally, by_day
    from coauthor.core.origin import Origin
    from coauthor.store.activity import activity_batches, read_connection
    from coauthor.store.projectfile import ProjectFile
except ImportError:  # not installed in this interpreter: use the checkout this file is in
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from coauthor.app.statistics import cache_file, summarise
    from coauthor.core.daily import Tally, by_day
    from coauthor.core.origin import Origin
    from coauthor.store.activity import activity_batches, read_connection
    from coauthor.store.projectfile import ProjectFile

MAX_SECONDS = 0.5
CATCH_UP_EVENTS = 5_000


def timed(call: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    samples = []
    result = None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - t0)
    return samples, result


def fail(message: str) -> None:
    raise SystemExit(f"stats: FAILED VERIFICATION: {message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (best)")
    parser.add_argument("--events", type=int, default=500_000, help="edit events to add")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="folder for the files")
    args = parser.parse_args(argv)
    repeats = max(1, args.repeats)

    from open import build  # bench/open.py: the same synthetic history

    build_args = argparse.Namespace(
        events=args.events, flush_every=5_000, session=200, seed=args.seed
    )
    load = os.getloadavg()[0]
    print(
        f"{args.events:,} synthetic edit events (bench/open.py's builder, seed {args.seed}); "
        f"load average {load:.2f} on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="coauthor-bench-", dir=args.dir) as tmp:
        path = Path(tmp) / "pride.coauthor"
        cache = Path(tmp) / "cache"
        built, _builder, build_seconds = build(path, build_args)
        conn = read_connection(path)
        stored = conn.execute("SELECT count(*) FROM events WHERE kind != 'm'").fetchone()[0]
        print(f"built in {build_seconds:.1f} s: {stored:,} text events stored\n")

        def cold() -> list:
            return by_day(summarise(conn, path, None))

        def read_only() -> int:
            return sum(len(batch) for batch in activity_batches(conn, 0))

        batches = list(activity_batches(conn, 0))

        def feed_only() -> Tally:
            tally = Tally()
            for batch in batches:
                tally.feed(batch)
            return tally

        cold_s, cold_days = timed(cold, repeats)
        read_s, _ = timed(read_only, repeats)
        feed_s, full = timed(feed_only, repeats)
        assert isinstance(full, Tally)
        batches.clear()

        summarise(conn, path, cache)  # the first run writes the cache

        def cached() -> list:
            return by_day(summarise(conn, path, cache))

        cached_s, cached_days = timed(cached, repeats * 2)

        # The cache as it was 5,000 events before the end.
        seqs = [r[0] for r in conn.execute("SELECT seq FROM events WHERE kind != 'm'")]
        upto = seqs[-CATCH_UP_EVENTS - 1]
        earlier = Tally()
        for batch in activity_batches(conn, 0):
            earlier.feed(row for row in batch if row[0] <= upto)
        digest = conn.execute("SELECT hash FROM events WHERE seq = ?", (upto,)).fetchone()[0]
        snapshot = json.dumps({"hash": bytes(digest).hex(), "tally": earlier.to_json()})
        target = cache_file(cache, path)

        def catch_up() -> list:
            target.write_text(snapshot, encoding="utf-8")
            return by_day(summarise(conn, path, cache))

        catch_s, catch_days = timed(catch_up, repeats * 2)

        env = {**os.environ, "COAUTHOR_CACHE_DIR": str(cache)}
        command = [sys.executable, "-m", "coauthor.cli", "stats", str(path), "--by-day"]

        def cli() -> None:
            subprocess.run(command, check=True, env=env, capture_output=True)

        cli_s, _ = timed(cli, repeats)

        # The slow count, from whole events.
        project_file = ProjectFile.open(path, readonly=True)
        slow = dict.fromkeys(Origin, 0)
        for event in project_file.events(kind="e"):
            if event.inserted and event.origin is not None:
                slow[event.origin] += len(event.inserted)
        project_file.close()
        conn.close()

    assert isinstance(cold_days, list)
    if cached_days != cold_days or catch_days != cold_days:
        fail("the cached or caught-up summary differs from the cold one")
    chars = {o: sum(d.chars[o] for d in cold_days) for o in Origin}
    if chars != slow:
        fail(f"characters by origin {chars} differ from the events' {slow}")
    process = {o: sum(c.process[o] for c in built.chapters) for o in Origin}
    if chars != process:
        fail(f"characters by origin {chars} differ from the process measure {process}")
    words = {o: sum(d.words[o] for d in cold_days) for o in Origin}
    print(
        f"{len(cold_days)} days; words written: "
        + ", ".join(f"{o.value} {n:,}" for o, n in words.items())
        + f"; {len(full.segments):,} quarter-hour segments\n"
    )

    def row(name: str, samples: list[float], note: str) -> tuple[str, ...]:
        return (name, f"{min(samples):.4f}", f"{max(samples):.4f}", str(len(samples)), note)

    rows = [
        row("cold: summarise + by_day, no cache", cold_s, f"{stored:,} events"),
        row("  of which: SQLite read", read_s, "store.activity"),
        row("  of which: Tally.feed", feed_s, "core.daily"),
        row("cached: summarise + by_day", cached_s, "no new event"),
        row("catch-up: summarise + by_day", catch_s, f"{CATCH_UP_EVENTS:,} new events"),
        row("coauthor stats --by-day (process)", cli_s, "cache warm, start-up included"),
    ]
    table(("step", "best s", "worst s", "runs", "notes"), rows)
    checks: list[Check] = [
        (
            f"500,000 events summarised, cached (every open after the first) <= {MAX_SECONDS:g} s",
            min(cached_s) <= MAX_SECONDS,
            f"{min(cached_s):.4f} s",
        ),
        (
            f"a day's {CATCH_UP_EVENTS:,} new events caught up <= {MAX_SECONDS:g} s",
            min(catch_s) <= MAX_SECONDS,
            f"{min(catch_s):.4f} s",
        ),
        (
            f"500,000 events summarised from nothing (first open; no cache) <= {MAX_SECONDS:g} s",
            min(cold_s) <= MAX_SECONDS,
            f"{min(cold_s):.4f} s",
        ),
    ]
    print_targets(checks)
    if args.json:
        print(
            json.dumps(
                {
                    "events": stored,
                    "cold_s": min(cold_s),
                    "read_s": min(read_s),
                    "feed_s": min(feed_s),
                    "cached_s": min(cached_s),
                    "catch_up_s": min(catch_s),
                    "cli_s": min(cli_s),
                    "targets": targets_json(checks),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
