"""Time ``coauthor verify``: of a project with a long history, and of an export (a signed EPUB).

Each section is a function that builds what it needs (not timed), times the verification and
returns its rows, its target verdicts and its JSON figures; ``main`` runs the sections asked
for and prints them. Sections:

``epub``
    ``data/pride_and_prejudice.txt`` imported through the importer (``parse_source`` +
    ``apply``, 61 chapters, checked), through the gate (``prepare_export``), and exported with
    ``export_epub`` signed by a fresh Ed25519 key (``AuthorKey.generate``: the key an author's
    keyring would hold, without touching the keyring). Timed, best of N with
    ``time.perf_counter`` (``gc.collect()`` before each run): ``verify_export`` on the file, in
    this process (reading the archive and its manifest, the signature, the 61 chapters' text
    read back from their XHTML and hashed, the foreword rendered again from the manifest's
    figures, the hashes of every entry). The first run (imports included) is printed apart.
    For information, ``coauthor verify book.epub`` as a user runs it (a new interpreter each
    time: start-up and imports included), best of 3.

``project``
    Pride and Prejudice (61 chapters) with 500,000 synthetic edit events, built by
    ``bench/open.py``'s builder (typing bursts, backspaces, model passages, pastes; not timed).
    Timed, best of N: ``verify`` of the project file as ``coauthor verify`` runs it (open
    read-only, the hash links checked in a second process while this one replays every event
    strictly from an empty book, then every snapshot and table compared with the replay).
    Target: at most 3 s.

Checked: every verification passes and names the signer; a copy of the EPUB with one letter
of chapter 30 changed fails, naming chapter 30; the project verifies, and a copy with one
stored snapshot relabelled fails.

Run: ``.venv/bin/python -P bench/verify.py [--json] [--repeats N] [--section epub]``. It takes
a few seconds. The exit code is 0 whatever the figures: this is a report, not a test.
"""
# ruff: noqa: E402 - the imports come after the set-up below, which must run before them

from __future__ import annotations

import os
import sys

# Off sys.path with this script's own folder: bench/typing.py would stand in for the standard
# library's typing module.
sys.path[:] = [
    p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))
]
sys.path.append(os.path.dirname(os.path.abspath(__file__)))  # benchlib, after the stdlib

import argparse
import dataclasses
import gc
import json
import statistics
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

try:
    from coauthor.core.book import BookMeta
except ImportError:  # not installed in this interpreter: use the checkout this file is in
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchlib import Check, print_targets, table, targets_json

from coauthor.core.book import BookMeta
from coauthor.core.project import Project
from coauthor.importers import apply, parse_source
from coauthor.publish.document import prepare_export
from coauthor.publish.epub import export_epub
from coauthor.publish.signing import AuthorKey
from coauthor.publish.verify_export import VerifyFailed, verify_export

SOURCE = Path(__file__).resolve().parent.parent / "data" / "pride_and_prejudice.txt"
CHAPTERS = 61

# Targets.
EPUB_VERIFY_MAX_SECONDS = 1.0
PROJECT_VERIFY_MAX_SECONDS = 3.0
PROJECT_EVENTS = 500_000

Row = tuple[str, ...]
HEADERS = ("step", "best s", "median s", "first s", "runs", "notes")


@dataclasses.dataclass
class Section:
    """What a section reports: table rows, target verdicts and its JSON figures."""

    rows: list[Row]
    checks: list[Check]
    figures: dict[str, object]
    notes: list[str] = dataclasses.field(default_factory=list)


def fail(message: str) -> NoReturn:
    raise SystemExit(f"verify: FAILED VERIFICATION: {message}")


def timed(call: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t0)
    return samples


def row(name: str, samples: list[float], note: str = "") -> Row:
    return (
        name,
        f"{min(samples):.4f}",
        f"{statistics.median(samples):.4f}",
        f"{samples[0]:.4f}",
        str(len(samples)),
        note,
    )


def pride_project() -> Project:
    project = Project(BookMeta(title="Pride and Prejudice", author="Jane Austen"))
    summary = apply(project, parse_source(SOURCE))
    if len(summary.chapters) != CHAPTERS:
        fail(f"the importer made {len(summary.chapters)} chapters, not {CHAPTERS}")
    return project


def signed_pride_epub(folder: Path) -> tuple[Path, AuthorKey]:
    """Pride and Prejudice as an EPUB signed by a fresh key (not timed)."""
    key = AuthorKey.generate("Jane Austen")
    document = dataclasses.replace(prepare_export(pride_project()), signer=key)
    return export_epub(document, folder / "pride.epub"), key


def tampered_copy(path: Path) -> Path:
    """The EPUB with one letter of chapter 30 changed."""
    copy = path.with_name("tampered.epub")
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(copy, "w") as out:
        for info, data in entries:
            if info.filename.endswith("chapter-030.xhtml"):
                data = data.replace(b"Elizabeth", b"Elizabetj", 1)
            out.writestr(info, data)
    return copy


def cli_verify(path: Path, repeats: int) -> list[float]:
    command = [sys.executable, "-m", "coauthor.cli", "verify", str(path)]
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False)
        samples.append(time.perf_counter() - t0)
        if done.returncode != 0:
            fail(f"coauthor verify failed: {done.stderr.decode(errors='replace')[:300]}")
    return samples


def epub_section(repeats: int, cli_repeats: int) -> Section:
    """``verify_export`` of a signed EPUB of Pride and Prejudice (target ≤ 1 s)."""
    with tempfile.TemporaryDirectory(prefix="coauthor-verify-") as tmp:
        path, key = signed_pride_epub(Path(tmp))
        size = path.stat().st_size

        def verify() -> None:
            check = verify_export(path)
            if not check.signed or check.fingerprint != key.fingerprint:
                fail("the EPUB did not verify as signed by its key")
            if len(check.manifest["chapters"]) != CHAPTERS:
                fail("the manifest does not list 61 chapters")

        samples = timed(verify, repeats)
        try:
            verify_export(tampered_copy(path))
        except VerifyFailed as exc:
            if "chapter 30" not in str(exc):
                fail(f"the tampered copy failed for another reason: {exc}")
        else:
            fail("a copy with one letter of chapter 30 changed verified")
        command = cli_verify(path, cli_repeats) if cli_repeats else []
    best = min(samples)
    rows = [row("verify_export (signed EPUB, in process)", samples, f"{size / 1000:,.0f} kB")]
    if command:
        rows.append(
            row("coauthor verify (a new process)", command, "start-up and imports included")
        )
    checks: list[Check] = [
        (
            f"verify of a Pride and Prejudice EPUB <= {EPUB_VERIFY_MAX_SECONDS:g} s",
            best <= EPUB_VERIFY_MAX_SECONDS,
            f"{best:.3f} s (best of {repeats})",
        )
    ]
    figures: dict[str, object] = {
        "epub_bytes": size,
        "verify_best_s": round(best, 4),
        "verify_median_s": round(statistics.median(samples), 4),
        "verify_first_s": round(samples[0], 4),
        "cli_best_s": round(min(command), 4) if command else None,
    }
    note = (
        "checked: every run verified the signature by the EPUB's key and 61 chapters; a copy "
        "with one letter of chapter 30 changed failed, naming chapter 30"
    )
    return Section(rows, checks, figures, [note])


def project_section(repeats: int, events: int) -> Section:
    """``verify`` of Pride and Prejudice with a long history (target ≤ 3 s at 500,000)."""
    import sqlite3

    from open import build  # bench/open.py: the same synthetic history

    from coauthor.store import ProjectFile
    from coauthor.store.verify import verify

    with tempfile.TemporaryDirectory(prefix="coauthor-verify-") as tmp:
        path = Path(tmp) / "pride.coauthor"
        options = argparse.Namespace(events=events, flush_every=5_000, session=200, seed=1)
        build(path, options)
        counted: list[int] = []

        def run() -> None:
            project_file = ProjectFile.open(path, readonly=True)
            try:
                result = verify(project_file)
            finally:
                project_file.close()
            if not result.ok:
                fail(f"the project did not verify: {result.message}")
            counted.append(result.events)

        samples = timed(run, repeats)
        copy = Path(tmp) / "tampered.coauthor"
        copy.write_bytes(path.read_bytes())
        conn = sqlite3.connect(copy)
        conn.execute(
            """UPDATE chapters SET runs = replace(runs, '"a","g', '"h","g') WHERE id = 30"""
        )
        conn.commit()
        conn.close()
        project_file = ProjectFile.open(copy, readonly=True)
        try:
            if verify(project_file).ok:
                fail("a copy with a relabelled snapshot verified")
        finally:
            project_file.close()
    best = min(samples)
    rows = [row(f"verify project ({counted[0]:,} events)", samples, "hash links in parallel")]
    checks: list[Check] = [
        (
            f"verify of the project ({counted[0]:,} events) <= {PROJECT_VERIFY_MAX_SECONDS:g} s",
            best <= PROJECT_VERIFY_MAX_SECONDS,
            f"{best:.3f} s (best of {repeats})",
        )
    ]
    figures: dict[str, object] = {
        "events": counted[0],
        "verify_best_s": round(best, 4),
        "verify_median_s": round(statistics.median(samples), 4),
    }
    note = (
        f"checked: the project ({counted[0]:,} events) verified every run; a copy with chapter "
        "30's snapshot relabelled failed"
    )
    return Section(rows, checks, figures, [note])


SECTIONS: dict[str, Callable[[argparse.Namespace], Section]] = {
    "project": lambda args: project_section(min(args.repeats, 3), args.events),
    "epub": lambda args: epub_section(args.repeats, args.cli_repeats),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per step (best)")
    parser.add_argument(
        "--cli-repeats", type=int, default=3, help="runs of the real command (0: skip it)"
    )
    parser.add_argument(
        "--events", type=int, default=PROJECT_EVENTS, help="edit events of the project section"
    )
    parser.add_argument(
        "--section",
        action="append",
        choices=sorted(SECTIONS),
        help="run only this section (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}; best of {args.repeats}\n")
    rows: list[Row] = []
    checks: list[Check] = []
    figures: dict[str, object] = {}
    for name in args.section or list(SECTIONS):
        section = SECTIONS[name](args)
        rows += section.rows
        checks += section.checks
        figures[name] = section.figures
        for note in section.notes:
            print(note)
    print()
    table(HEADERS, rows, left=(0, 5))
    print("first s: the first run, the verifier's imports included")
    print_targets(checks)
    if args.json:
        print(json.dumps({**figures, "targets": targets_json(checks)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
