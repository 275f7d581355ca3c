"""How long ``coauthor stats`` takes on a small project, from process start to exit.

Set-up (not timed): the first-run sample book (``coauthor.app.sample.build_sample``: five
chapters, every origin, a pending generation) is written to a temporary folder. Each run then
starts the ``coauthor`` command (the console script beside this interpreter, else
``python -m coauthor.cli``) as a new process, ``coauthor stats BOOK.coauthor``, and times it
from the launch to its exit (``time.perf_counter`` around ``subprocess.run``, output captured).
Runs: 21 (``--runs``), after 2 warm-up runs (the file system cache); the median is the figure the
target applies to, the best and the worst are printed too. For information, the same for a
bare ``python -c pass`` (the interpreter's own start) and for importing ``coauthor.cli`` alone.

Checked: every run exits 0 and prints the sample's title; and in one run of the command's code
(``main(["stats", ...])`` in a child process) neither the ``openai`` SDK nor Qt was imported:
commands that do not talk to a provider do not load it.

Run: ``.venv/bin/python bench/cli_start.py [--runs N] [--json]``. The exit code is 0 whatever
the figures: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))  # benchlib, after the standard library
from benchlib import print_targets, table, targets_json

try:
    from coauthor.app.sample import build_sample
except ImportError:  # not installed in this interpreter: use the checkout this file is in
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from coauthor.app.sample import build_sample

# Target.
STATS_MEDIAN_MAX_MS = 150.0

_LOADED = (
    "import sys; from coauthor.cli import main; code = main(['stats', sys.argv[1]]); "
    "print('LOADED', 'openai' in sys.modules, 'PySide6' in sys.modules, file=sys.stderr); "
    "sys.exit(code)"
)


def fail(message: str) -> None:
    raise SystemExit(f"cli_start: FAILED VERIFICATION: {message}")


def command() -> list[str]:
    script = Path(sys.executable).with_name("coauthor")
    if script.is_file():
        return [str(script)]
    found = shutil.which("coauthor")
    return [found] if found else [sys.executable, "-m", "coauthor.cli"]


def timed(argv: list[str], runs: int, warmup: int = 2) -> tuple[list[float], str]:
    """Milliseconds per run of ``argv`` (launch to exit), and the last run's stdout."""
    times: list[float] = []
    out = ""
    for index in range(warmup + runs):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, check=False)
        elapsed = (time.perf_counter() - started) * 1000
        if done.returncode != 0:
            fail(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-300:]}")
        out = done.stdout.decode("utf-8", "replace")
        if index >= warmup:
            times.append(elapsed)
    return times, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs of each (default 21)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="coauthor-cli-start-") as folder:
        book = Path(folder) / "sample.coauthor"
        build_sample(book)
        stats, out = timed([*command(), "stats", str(book)], args.runs)
        if "The Tide Clock" not in out:
            fail(f"coauthor stats did not print the sample's title: {out[:200]!r}")
        bare, _ = timed([sys.executable, "-c", "pass"], args.runs)
        imports, _ = timed([sys.executable, "-c", "import coauthor.cli"], args.runs)
        loaded = subprocess.run(
            [sys.executable, "-c", _LOADED, str(book)], capture_output=True, check=False, text=True
        )
        line = next((x for x in loaded.stderr.splitlines() if x.startswith("LOADED")), "")
        if loaded.returncode != 0 or not line:
            fail(f"the stats command failed in process: {loaded.stderr[-300:]}")
        _, openai_loaded, qt_loaded = line.split()
        if openai_loaded == "True" or qt_loaded == "True":
            fail(f"coauthor stats imported openai={openai_loaded}, Qt={qt_loaded}")

    def row(label: str, values: list[float]) -> tuple[str, ...]:
        return (
            label,
            f"{statistics.median(values):.1f}",
            f"{min(values):.1f}",
            f"{max(values):.1f}",
        )

    print(f"coauthor stats on the sample book, {args.runs} runs each (ms, launch to exit)\n")
    table(
        ("what", "median", "best", "worst"),
        [
            row("coauthor stats", stats),
            row("python -c pass (for information)", bare),
            row("python -c 'import coauthor.cli' (for information)", imports),
        ],
    )
    print("\nneither openai nor Qt imported by coauthor stats: checked")
    median = statistics.median(stats)
    checks = [
        (
            f"coauthor stats, launch to exit, median ≤ {STATS_MEDIAN_MAX_MS:.0f} ms",
            median <= STATS_MEDIAN_MAX_MS,
            f"{median:.1f} ms",
        )
    ]
    print_targets(checks)
    if args.json:
        print(
            json.dumps(
                {
                    "stats_ms": stats,
                    "python_ms": bare,
                    "import_ms": imports,
                    "targets": targets_json(checks),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
