"""The History view's cost: any point of a chapter with 100,000 events, rebuilt and shown.

The project is built first (not timed): one chapter of a fresh project file, 100,000 edit
events recorded through ``Project`` with coalescing off (each one a stored event) and
``ProjectFile.flush`` every 5,000. The history is drawn with a fixed seed from the words of
``data/pride_and_prejudice.txt``: bursts of typed words at a random place (human; one word in
twelve ends a paragraph), backspaces,
a replaced word, accepted generations (AI, a ``Generation`` each, one event per sentence) and
pastes, so the chapter grows to a long one with thousands of runs of mixed origins.

Timed (``time.perf_counter``), on the project file reopened read-only as the History view
reads it:

* building the ``Timeline`` (read every event of the chapter, replay them once, keep a
  checkpoint of the text every ``--every`` events): once per opening of the view;
* ``Timeline.text_at`` at ``--positions`` random positions (fixed seed): the nearest
  checkpoint plus the replay of the events after it, the text and runs ready to show;
* with Qt (offscreen), ``HistoryView.show_position`` at the same positions, each followed by
  ``QApplication.processEvents()`` so the text is laid out and painted in origin colours:
  what the author waits for when the slider moves;
* for comparison, the naive way (``coauthor replay``): every event replayed from the start,
  at 20 of the positions.

Checked: the text at every timed position equals the naive replay (at the 20 compared), and
the last position equals the chapter as loaded.

Run: ``.venv/bin/python bench/history.py [--json]``. Building takes about 20 s. The exit code
is 0 whatever the figures: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))  # benchlib, after the standard library
from benchlib import Check, print_targets, table, targets_json

try:
    from coauthor.core.book import BookMeta, Chapter
    from coauthor.core.generation import Generation
    from coauthor.core.history import apply_event
    from coauthor.core.origin import Origin
    from coauthor.core.project import Project
    from coauthor.core.provenance import ProvenanceText
    from coauthor.core.timeline import CHECKPOINT_EVERY, Timeline
    from coauthor.store.projectfile import ProjectFile
except ImportError:  # not installed in this interpreter: use the checkout this file is in
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from coauthor.core.book import BookMeta, Chapter
    from coauthor.core.generation import Generation
    from coauthor.core.history import apply_event
    from coauthor.core.origin import Origin
    from coauthor.core.project import Project
    from coauthor.core.provenance import ProvenanceText
    from coauthor.core.timeline import CHECKPOINT_EVERY, Timeline
    from coauthor.store.projectfile import ProjectFile

SOURCE = Path(__file__).resolve().parent.parent / "data" / "pride_and_prejudice.txt"
START_MS = 1_700_000_000_000

# Target: any position shown within this (median and max of the random positions).
MAX_POSITION_MS = 100.0


class Writer:
    """Records the synthetic history of one chapter, flushing every ``flush_every`` events."""

    def __init__(self, project: Project, project_file: ProjectFile, seed: int) -> None:
        self.project = project
        self.project_file = project_file
        self.rng = random.Random(seed)
        self.now = [START_MS]
        project.clock = lambda: self.now[0]
        self.words = re.findall(r"[A-Za-z’',;.!?-]+", SOURCE.read_text(encoding="utf-8"))
        self.done = 0

    def tick(self, low: int, high: int) -> int:
        self.now[0] += self.rng.randint(low, high)
        return self.now[0]

    def recorded(self, target: int, flush_every: int) -> bool:
        self.done += 1
        if self.done % flush_every == 0:
            self.project_file.flush(self.project)
        return self.done < target

    def run(self, chapter: Chapter, target: int, flush_every: int) -> None:
        rng, project = self.rng, self.project
        more = True
        while more:
            pos = rng.randint(0, len(chapter.text))
            r = rng.random()
            if r < 0.52:  # typing words
                for _ in range(rng.randint(1, 20)):
                    # A paragraph ends now and then: chapters are paragraphs, not one line.
                    end = ".\n\n" if rng.random() < 1 / 12 else " "
                    word = rng.choice(self.words) + end
                    project.insert(chapter, pos, word, Origin.HUMAN, time=self.tick(300, 1500))
                    pos += len(word)
                    if not (more := self.recorded(target, flush_every)):
                        break
            elif r < 0.78:  # backspacing
                for _ in range(rng.randint(1, 30)):
                    n = min(pos, rng.randint(3, 16))
                    if not n:
                        break
                    pos -= n
                    project.delete(chapter, pos, n, time=self.tick(200, 900))
                    if not (more := self.recorded(target, flush_every)):
                        break
            elif r < 0.88:  # a word replaced
                n = min(len(chapter.text) - pos, rng.randint(3, 9))
                word = rng.choice(self.words)
                project.replace(chapter, pos, n, word, Origin.HUMAN, time=self.tick(1000, 5000))
                more = self.recorded(target, flush_every)
            elif r < 0.96:  # a generation accepted
                more = self.generation(chapter, pos, target, flush_every)
            else:  # a paste
                text = " ".join(rng.choices(self.words, k=rng.randint(3, 30))) + " "
                project.insert(chapter, pos, text, Origin.PASTED, time=self.tick(2000, 10000))
                more = self.recorded(target, flush_every)
        self.project_file.flush(self.project)

    def generation(self, chapter: Chapter, pos: int, target: int, flush_every: int) -> bool:
        rng, project = self.rng, self.project
        when = self.tick(3000, 20000)
        parts = [
            " ".join(rng.choices(self.words, k=rng.randint(6, 25))) + ". "
            for _ in range(rng.randint(1, 3))
        ]
        if rng.random() < 0.5:
            parts[-1] = parts[-1].rstrip() + "\n\n"
        generation_id = project.new_generation_id()
        project.add_generation(
            Generation(
                generation_id,
                "bench",
                "synthetic",
                {"temperature": 0.8},
                [{"role": "user", "content": "Continue."}],
                "".join(parts),
                created=when,
                finished=when + 2000,
                chapter_id=chapter.id,
            )
        )
        for part in parts:
            project.insert(chapter, pos, part, Origin.AI, generation_id, time=self.tick(0, 500))
            pos += len(part)
            if not self.recorded(target, flush_every):
                return False
        return True


def build(path: Path, events: int, flush_every: int, seed: int) -> tuple[int, float]:
    """The project file; its chapter's id and the seconds it took."""
    t0 = time.perf_counter()
    project = Project(BookMeta(title="History bench"))
    project_file = ProjectFile.create(path, project.meta)
    chapter = project.add_chapter("The long chapter")
    project_file.flush(project)
    project.history.coalesce = False
    Writer(project, project_file, seed).run(chapter, events, flush_every)
    project_file.close(project)
    return chapter.id, time.perf_counter() - t0


def same(a: ProvenanceText, b: ProvenanceText) -> bool:
    return a.text == b.text and list(a.runs()) == list(b.runs())


def fail(message: str) -> None:
    raise SystemExit(f"history: FAILED VERIFICATION: {message}")


def gui_figures(timeline: Timeline, positions: list[int]) -> list[float] | None:
    """Milliseconds to show each position in a ``HistoryView`` (offscreen), painted."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from PySide6.QtWidgets import QApplication

        from coauthor.ui.history import HistoryView
        from coauthor.ui.palette import palette_for
    except ImportError:
        return None
    app = QApplication.instance() or QApplication([])
    view = HistoryView(palette_for(app.palette()))  # type: ignore[arg-type]
    view.resize(1000, 800)
    view.show()
    view.set_timeline(timeline, {}, "The long chapter")
    app.processEvents()
    figures = []
    for position in positions:
        t0 = time.perf_counter()
        view.show_position(position)
        app.processEvents()
        figures.append((time.perf_counter() - t0) * 1000)
        if view.viewer.toPlainText() != timeline.text_at(position).text:
            fail(f"the view shows another text than the timeline at position {position}")
    view.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--events", type=int, default=100_000, help="edit events of the chapter")
    parser.add_argument("--flush-every", type=int, default=5_000, help="events between flushes")
    parser.add_argument("--positions", type=int, default=200, help="random positions timed")
    parser.add_argument(
        "--every", type=int, default=CHECKPOINT_EVERY, help="events between checkpoints"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the history and positions")
    parser.add_argument("--no-gui", action="store_true", help="skip the HistoryView timing")
    parser.add_argument(
        "--dir", type=Path, default=None, help="folder for the project file (default: a temp dir)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="coauthor-bench-", dir=args.dir) as tmp:
        path = Path(tmp) / "history.coauthor"
        chapter_id, build_seconds = build(path, args.events, args.flush_every, args.seed)
        project_file = ProjectFile.open(path, readonly=True)
        try:
            loaded = project_file.load().chapter(chapter_id)
            t0 = time.perf_counter()
            timeline = Timeline.build(
                project_file.events(chapter_id), chapter=chapter_id, every=args.every
            )
            index_seconds = time.perf_counter() - t0
        finally:
            project_file.close()

    steps = len(timeline)
    rng = random.Random(args.seed)
    positions = [rng.randint(0, steps) for _ in range(args.positions)]
    core_ms = []
    for position in positions:
        t0 = time.perf_counter()
        shown = timeline.text_at(position)
        core_ms.append((time.perf_counter() - t0) * 1000)
        del shown
    if not same(timeline.text_at(steps), loaded.text):
        fail("the last position differs from the chapter as loaded")

    naive_ms = []
    for position in positions[:20]:
        t0 = time.perf_counter()
        text = ProvenanceText()
        upto = timeline.seq_at(position)
        for event in timeline.events:
            if event.seq > upto:
                break
            apply_event(text, event)
        naive_ms.append((time.perf_counter() - t0) * 1000)
        if not same(text, timeline.text_at(position)):
            fail(f"position {position} differs from a full replay")

    gui_ms = None if args.no_gui else gui_figures(timeline, positions)

    print(
        f"one chapter, {steps:,} text events (seed {args.seed}, coalescing off), "
        f"{len(loaded.text):,} characters and {loaded.text.run_count():,} runs at the end; "
        f"checkpoint every {args.every} events"
    )
    print(f"built in {build_seconds:.1f} s (not timed)\n")

    def row(label: str, figures: list[float]) -> tuple[str, ...]:
        return (
            label,
            str(len(figures)),
            f"{statistics.median(figures):.1f}",
            f"{max(figures):.1f}",
        )

    rows = [row("text_at (checkpoint + tail replay)", core_ms)]
    if gui_ms is not None:
        rows.append(row("HistoryView.show_position, painted", gui_ms))
    rows.append(row("naive full replay (for comparison)", naive_ms))
    table(("what", "positions", "median ms", "max ms"), rows)
    print(f"\ntimeline index: {index_seconds:.2f} s once per opening of the view")

    checks: list[Check] = [
        (
            f"any position rebuilt ≤ {MAX_POSITION_MS:.0f} ms (text_at, max of {len(positions)})",
            max(core_ms) <= MAX_POSITION_MS,
            f"{max(core_ms):.1f} ms",
        ),
        (
            f"any position shown ≤ {MAX_POSITION_MS:.0f} ms (painted, max of {len(positions)})",
            None if gui_ms is None else max(gui_ms) <= MAX_POSITION_MS,
            ""
            if gui_ms is None
            else f"{max(gui_ms):.1f} ms (median {statistics.median(gui_ms):.1f})",
        ),
    ]
    print_targets(checks)
    if args.json:
        report = {
            "events": steps,
            "characters": len(loaded.text),
            "runs": loaded.text.run_count(),
            "every": args.every,
            "index_seconds": round(index_seconds, 3),
            "text_at_ms": {"median": statistics.median(core_ms), "max": max(core_ms)},
            "naive_ms": {"median": statistics.median(naive_ms), "max": max(naive_ms)},
            "targets": targets_json(checks),
        }
        if gui_ms is not None:
            report["show_position_ms"] = {"median": statistics.median(gui_ms), "max": max(gui_ms)}
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
