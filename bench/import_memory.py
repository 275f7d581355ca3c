"""Peak memory and time of ``coauthor import`` on large and hostile sources, in a subprocess.

Two sources are generated in a temporary folder (not timed):

* a CoAuthor session log (``.jsonl.gz``) that expands to ``--log-mb`` MB (default 300). It has
  the real logs' shape and every field of their events (``data/coauthor``): one
  ``system-initialize`` with a prompt, then a writer typing one character per ``text-insert``
  event, backspacing, going back to insert a word earlier in the text, moving the cursor, and
  every 80 words or so asking for suggestions (``suggestion-get``, ``-open`` with five
  suggestions, ``-hover``, ``-select``, an ``api`` insertion, ``-close``). An emoji now and
  then puts characters outside the Basic Multilingual Plane in the text (UTF-16 positions).
  Fixed seed.
* a Markdown file with ``--headings`` level-1 headings (default 1,000,000), one short
  paragraph each. The importer refuses a source that would give more chapters than its limit
  (``MAX_CHAPTERS``), so this measures how fast and how small that refusal is.

Each is imported into a new project by the real command (``coauthor.cli`` run as ``__main__``)
in a child process. Its peak resident memory is the child's VmHWM (``/proc/self/status``, read
as it exits: the high-water mark of its own image; ``ru_maxrss`` would also count the parent's
memory, which a child holds until it execs), its time the wall clock from start to exit. The log's project is then checked: ``stats --json``
gives one chapter whose length is the replayed text's.

Run: ``.venv/bin/python bench/import_memory.py [--json]``. Writing the 300 MB log takes 10-20 s,
its import 20-40 s. The exit code is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))  # benchlib, after the standard library
from benchlib import Check, print_targets, table, targets_json

ROOT = Path(__file__).resolve().parent.parent
WORDS_SOURCE = ROOT / "data" / "pride_and_prejudice.txt"

# Targets.
MAX_LOG_RSS_MB = 400
MAX_HEADINGS_SECONDS = 15.0
MAX_HEADINGS_RSS_MB = 1500

_PARAMS = {
    "currentN": "5",
    "currentMaxToken": "30",
    "currentTemperature": "0.2",
    "currentTopP": "1",
    "currentPresencePenalty": "0",
    "currentFrequencyPenalty": "0.5",
}
_EMOJI = "\U0001f642"


class LogWriter:
    """Writes a synthetic CoAuthor session, event by event, tracking the text it builds."""

    def __init__(self, out, seed: int) -> None:
        self.out = out
        self.rng = random.Random(seed)
        text = WORDS_SOURCE.read_text(encoding="utf-8")
        self.words = text.split()[:50_000]
        self.doc_units = 0  # UTF-16 length of the text
        self.doc_len = 0  # code points
        self.tail = ""  # the end of the text, to know what a backspace removes
        self.cursor = 0
        self.num = 0
        self.time = 1_629_645_831_556
        self.written = 0

    def event(self, name: str, source: str, delta: object = "", **extra: object) -> None:
        self.time += self.rng.randint(40, 900)
        event = {
            "eventName": name,
            "eventSource": source,
            "eventTimestamp": self.time,
            "textDelta": delta,
            "cursorRange": "",
            "currentDoc": "",
            "currentCursor": self.cursor,
            "currentSuggestions": [],
            "currentSuggestionIndex": 0,
            "currentHoverIndex": "",
            **_PARAMS,
            "eventNum": self.num,
        }
        event.update(extra)
        line = (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")
        self.out.write(line)
        self.written += len(line)
        self.num += 1

    def start(self) -> None:
        prompt = "The Lighthouse Keeper\n\nWrite a story about a lighthouse keeper.\n\n---\n\n"
        self.event("system-initialize", "api", currentDoc=prompt)
        self.doc_len = self.doc_units = self.cursor = len(prompt)

    def insert(self, text: str, source: str = "user", at: int | None = None) -> None:
        units = len(text.encode("utf-16-le")) // 2
        where = self.doc_units if at is None else at
        ops = [{"retain": where}, {"insert": text}] if where else [{"insert": text}]
        self.event("text-insert", source, {"ops": ops})
        self.doc_units += units
        self.doc_len += len(text)
        if at is None:
            self.tail = (self.tail + text)[-64:]
        self.cursor = where + units

    def backspace(self) -> None:
        if not self.tail or len(self.tail[-1].encode("utf-16-le")) != 2:
            return
        self.tail = self.tail[:-1]
        self.event("text-delete", "user", {"ops": [{"retain": self.doc_units - 1}, {"delete": 1}]})
        self.doc_units -= 1
        self.doc_len -= 1
        self.cursor = self.doc_units

    def suggestions(self) -> None:
        rng = self.rng
        options = [" ".join(rng.choices(self.words, k=rng.randint(6, 14))) for _ in range(5)]
        listed = [
            {"index": i, "original": s, "trimmed": s, "probability": rng.random() / 1e9}
            for i, s in enumerate(options)
        ]
        self.event("suggestion-get", "user")
        self.event("suggestion-open", "api", currentSuggestions=listed)
        for i in range(rng.randint(1, 3)):
            self.event("suggestion-hover", "user", currentHoverIndex=i)
        if rng.random() < 0.6:
            choice = rng.randrange(5)
            self.event("suggestion-select", "user", currentSuggestionIndex=choice)
            self.insert(" " + options[choice], source="api")
        self.event("suggestion-close", "api")

    def write(self, target_bytes: int) -> None:
        rng = self.rng
        self.start()
        words = 0
        while self.written < target_bytes:
            word = rng.choice(self.words)
            if rng.random() < 0.002:
                word += _EMOJI
            for ch in word + " ":
                self.insert(ch)
            words += 1
            if rng.random() < 0.05:
                for _ in range(rng.randint(1, 3)):
                    self.backspace()
            if rng.random() < 0.01:  # back to insert a word earlier in the text
                self.event("cursor-backward", "user")
                at = rng.randint(0, self.doc_units)
                self.insert(rng.choice(self.words) + " ", at=at)
                self.event("cursor-forward", "user")
            if words % 80 == 0:
                self.suggestions()


def write_log(path: Path, megabytes: float, seed: int) -> LogWriter:
    with gzip.open(path, "wb", compresslevel=6) as out:
        writer = LogWriter(out, seed)
        writer.write(int(megabytes * 1e6))
    return writer


def write_headings(path: Path, headings: int) -> int:
    with path.open("w", encoding="utf-8") as out:
        for n in range(1, headings + 1):
            out.write(f"# Chapter {n}\n\nIt was a dark and stormy night, part {n}.\n\n")
    return path.stat().st_size


# The child runs the command and, as it exits, writes its peak resident set: VmHWM from /proc,
# the high-water mark of its own image. (``ru_maxrss`` of a child also counts the memory of the
# parent, which it holds until it execs.)
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


def run_import(source: Path, project: Path, log: Path) -> tuple[int, float, float, str]:
    """``coauthor import SOURCE --into PROJECT`` in a child: exit code, seconds, peak MB, stderr."""
    peak = log.with_suffix(".peak")
    with log.open("wb") as err:
        start = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", _PEAK_RUNNER, "import", source, "--into", project],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "COAUTHOR_PEAK_FILE": str(peak)},
            check=False,
        )
        seconds = time.perf_counter() - start
    message = log.read_text(encoding="utf-8", errors="replace").strip()
    peak_mb = int(peak.read_text()) / 1024 if peak.exists() else float("nan")
    return child.returncode, seconds, peak_mb, message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--log-mb", type=float, default=300, help="the log's expanded size, MB")
    parser.add_argument("--headings", type=int, default=1_000_000, help="Markdown headings")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic log")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the files")
    args = parser.parse_args(argv)

    print(f"python {sys.version.split()[0]}; each import runs in a child process\n")
    with tempfile.TemporaryDirectory(prefix="coauthor-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        log = folder / "session.jsonl.gz"
        t0 = time.perf_counter()
        writer = write_log(log, args.log_mb, args.seed)
        log_seconds = time.perf_counter() - t0
        print(
            f"log: {writer.written / 1e6:.1f} MB expanded, {log.stat().st_size / 1e6:.2f} MB "
            f"gzipped, {writer.num:,} events, final text {writer.doc_len:,} characters "
            f"(written in {log_seconds:.1f} s)"
        )
        md = folder / "headings.md"
        md_bytes = write_headings(md, args.headings)
        print(f"markdown: {args.headings:,} level-1 headings, {md_bytes / 1e6:.1f} MB\n")

        log_code, log_s, log_mb, log_msg = run_import(
            log, folder / "log.coauthor", folder / "log.err"
        )
        chars = None
        if log_code == 0:
            stats = subprocess.run(
                [sys.executable, "-m", "coauthor.cli", "stats", folder / "log.coauthor", "--json"],
                capture_output=True,
                check=False,
            )
            if stats.returncode == 0:
                chars = json.loads(stats.stdout)["chapters"][0]["total_chars"]
        md_code, md_s, md_mb, md_msg = run_import(md, folder / "md.coauthor", folder / "md.err")

    rows = [
        ("CoAuthor log", f"{writer.written / 1e6:.0f} MB", str(log_code), f"{log_s:.1f}"),
        ("Markdown headings", f"{args.headings:,}", str(md_code), f"{md_s:.1f}"),
    ]
    rows = [(*r, f"{mb:.0f}") for r, mb in zip(rows, (log_mb, md_mb), strict=True)]
    table(("source", "size", "exit", "seconds", "peak RSS MB"), rows)
    print(f"\nlog import said: {log_msg}")
    print(f"markdown import said: {md_msg}")
    replayed = log_code == 0 and chars == writer.doc_len
    if log_code == 0:
        print(f"log project: {chars} characters, expected {writer.doc_len:,}")

    checks: list[Check] = [
        (
            f"log of {writer.written / 1e6:.0f} MB imports, peak RSS <= {MAX_LOG_RSS_MB} MB",
            replayed and log_mb <= MAX_LOG_RSS_MB,
            f"exit {log_code}, {log_mb:.0f} MB, {log_s:.1f} s",
        ),
        (
            (
                f"{args.headings:,} headings: imported or refused in one sentence, "
                f"<= {MAX_HEADINGS_SECONDS:g} s and <= {MAX_HEADINGS_RSS_MB} MB"
            ),
            md_code in (0, 1)
            and md_msg.count("\n") == 0
            and md_s <= MAX_HEADINGS_SECONDS
            and md_mb <= MAX_HEADINGS_RSS_MB,
            f"exit {md_code}, {md_s:.1f} s, {md_mb:.0f} MB",
        ),
    ]
    print_targets(checks)
    if args.json:
        report = {
            "log": {
                "expanded_bytes": writer.written,
                "events": writer.num,
                "final_chars": writer.doc_len,
                "exit": log_code,
                "seconds": round(log_s, 3),
                "peak_rss_mb": round(log_mb, 1),
            },
            "headings": {
                "count": args.headings,
                "bytes": md_bytes,
                "exit": md_code,
                "seconds": round(md_s, 3),
                "peak_rss_mb": round(md_mb, 1),
                "message": md_msg,
            },
            "targets": targets_json(checks),
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
