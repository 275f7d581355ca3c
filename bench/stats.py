"""Summarise a long history into writing statistics by day, and print the figures.

The project is ``bench/open.py``'s (not timed): *Pride and Prejudice* imported (61 chapters),
then 500,000 synthetic edit events (typing, backspaces, replacements, accepted generations,
pastes; coalescing off, fixed seed), flushed every 5,000. Written through ``ProjectFile``, the
file keeps the statistics' summary as the app's would (``store.activity.KeptSummary``: stored
with the events every 2,000 events or 10 seconds, and at close).

Timed, best of N (``gc.collect()`` before each run):

* **first summary** on a machine (no cache), as the app and ``coauthor stats`` make it: the
  summary the file keeps, checked by the chain hash of its last event, then the events after
  it, then ``by_day``. The file's summary is set back to where it was 2,000 events before the
  end, the most it lags while the app writes (a process killed between two stores).
* **cached**: the summary cached on this machine (as after the first run), checked the same
  way, no new event; then ``by_day``.
* **catch-up**: the cache 5,000 events behind (a book reopened after a day's writing, written
  by a Coauthor that kept no summary in the file), those events read and fed, ``by_day``.
* **from nothing**: a file with no summary of its own and no cache (written by a Coauthor
  before the file kept one): every text event read from SQLite (``store.activity``) and fed
  to ``core.daily.Tally``. Reported apart: the SQLite read alone and the summary alone. This is
  paid once per such file: the app hands the result to the file to keep.
* **keeping it**: what the file's summary adds to a flush of 5,000 events (a copy of the
  summary fed those events, and its JSON record).
* ``coauthor stats --by-day`` as a new process, cache warm (for information; start-up
  included).

Checked: every summary equals the one from nothing; the characters inserted by origin equal a
count from whole events (``ProjectFile.events``) and the chapters' process measure.

Run: ``.venv/bin/python -P bench/stats.py [--json]``. Building takes 20-30 s.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
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
    from coauthor.core.daily import Tally, by_day, tally_record
    from coauthor.core.origin import Origin
    from coauthor.store.activity import (
        STATISTICS_KEY,
        activity_batches,
        event_hash_at,
        last_seq,
        read_connection,
        stored_tally,
    )
    from coauthor.store.projectfile import ProjectFile
except ImportError:  # not installed in this interpreter: use the checkout this file is in
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from coauthor.app.statistics import cache_file, summarise
    from coauthor.core.daily import Tally, by_day, tally_record
    from coauthor.core.origin import Origin
    from coauthor.store.activity import (
        STATISTICS_KEY,
        activity_batches,
        event_hash_at,
        last_seq,
        read_connection,
        stored_tally,
    )
    from coauthor.store.projectfile import ProjectFile

MAX_SECONDS = 0.5
CATCH_UP_EVENTS = 5_000
KEPT_LAG_EVENTS = 2_000
"""The most the file's summary lags behind its events (``ProjectFile``'s store interval)."""
FLUSH_EVENTS = 5_000


def tally_upto(conn: sqlite3.Connection, seq: int) -> Tally:
    """The summary of the events up to ``seq``, ending at ``seq``."""
    tally = Tally()
    for batch in activity_batches(conn, 0, seq):
        tally.feed(batch)
    tally.seq = seq
    return tally


def hash_at(conn: sqlite3.Connection, seq: int) -> bytes:
    digest = event_hash_at(conn, seq)
    assert digest is not None
    return digest


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

        writer = sqlite3.connect(path)

        def set_kept(value: str | None) -> None:
            if value is None:
                writer.execute("DELETE FROM meta WHERE key = ?", (STATISTICS_KEY,))
            else:
                writer.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    (STATISTICS_KEY, value),
                )
            writer.commit()

        built_kept = stored_tally(conn)
        if built_kept is None or built_kept.seq != last_seq(conn):
            fail("the file does not keep the summary of its whole history")
        last = last_seq(conn)
        behind = last - KEPT_LAG_EVENTS
        set_kept(tally_record(tally_upto(conn, behind), hash_at(conn, behind)))

        def first() -> list:
            return by_day(summarise(conn, path, None))

        first_s, first_days = timed(first, repeats * 2)

        set_kept(None)  # a file written before Coauthor kept a summary

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
        if not built_kept.same_figures(full):
            fail("the summary the file kept differs from the one from every event")

        summarise(conn, path, cache)  # the first run writes the cache

        def cached() -> list:
            return by_day(summarise(conn, path, cache))

        cached_s, cached_days = timed(cached, repeats * 2)

        # The cache as it was 5,000 events before the end.
        seqs = [r[0] for r in conn.execute("SELECT seq FROM events WHERE kind != 'm'")]
        upto = seqs[-CATCH_UP_EVENTS - 1]
        snapshot = tally_record(tally_upto(conn, upto), hash_at(conn, upto))
        target = cache_file(cache, path)

        def catch_up() -> list:
            target.write_text(snapshot, encoding="utf-8")
            return by_day(summarise(conn, path, cache))

        catch_s, catch_days = timed(catch_up, repeats * 2)

        # What keeping the summary adds to a flush of 5,000 events.
        project_file = ProjectFile.open(path, readonly=True)
        events = list(project_file.events(after=last - FLUSH_EVENTS))
        project_file.close()
        base = tally_upto(conn, last - FLUSH_EVENTS)
        digest = hash_at(conn, last)

        def keep() -> str:
            fed = base.copy()
            fed.feed_events(events)
            return tally_record(fed, digest)

        keep_s, _ = timed(keep, repeats * 2)
        set_kept(tally_record(built_kept, hash_at(conn, built_kept.seq)))
        writer.close()

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
    if cached_days != cold_days or catch_days != cold_days or first_days != cold_days:
        fail("the first, cached or caught-up summary differs from the one from nothing")
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
        row("first summary: file's + by_day", first_s, f"{KEPT_LAG_EVENTS:,} events after it"),
        row("cached: summarise + by_day", cached_s, "no new event"),
        row("catch-up: summarise + by_day", catch_s, f"{CATCH_UP_EVENTS:,} new events"),
        row("from nothing: summarise + by_day", cold_s, f"{stored:,} events; older files"),
        row("  of which: SQLite read", read_s, "store.activity"),
        row("  of which: Tally.feed", feed_s, "core.daily"),
        row("keeping it, per flush", keep_s, f"{FLUSH_EVENTS:,} events fed, JSON record"),
        row("coauthor stats --by-day (process)", cli_s, "cache warm, start-up included"),
    ]
    table(("step", "best s", "worst s", "runs", "notes"), rows)
    checks: list[Check] = [
        (
            f"500,000 events summarised, first time on this machine <= {MAX_SECONDS:g} s",
            min(first_s) <= MAX_SECONDS,
            f"{min(first_s):.4f} s",
        ),
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
    ]
    print_targets(checks)
    if args.json:
        print(
            json.dumps(
                {
                    "events": stored,
                    "first_s": min(first_s),
                    "keep_per_flush_s": min(keep_s),
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
