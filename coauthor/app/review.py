"""``coauthor review PROJECT``: review pending generations in a terminal.

Each pending generation is shown inside its surrounding text; the reviewer approves, rejects
(its surviving text is removed) or skips it. Every decision is written at once, with the
reviewer's name and the time. It refuses to run without a terminal: a review is a person's act.
"""

from __future__ import annotations

import getpass
import os
import shutil
import sys
import textwrap
import time
from collections.abc import Callable
from typing import TextIO

from coauthor.app.terminal import escape_controls
from coauthor.core.generation import ReviewState
from coauthor.core.models import model_identity
from coauthor.core.policy import generation_ranges, pending_generations
from coauthor.core.project import Project
from coauthor.store import ProjectFile

__all__ = ["NoTerminal", "review_session"]

_CONTEXT = 240
_MARK_ON = "\x1b[7m"  # reverse video
_MARK_OFF = "\x1b[0m"


class NoTerminal(Exception):
    """Standard input or output is not a terminal."""


def _group(project: Project) -> list[tuple[str, int, list[tuple[int, int]]]]:
    """(generation id, chapter id, stretches) for each pending generation, in reading order."""
    return [
        (p.generation_id, p.chapter.id, list(p.stretches))
        for p in pending_generations(project.chapters, project.generations)
    ]


def _show(
    project: Project,
    ref: str,
    chapter_id: int,
    stretches: list[tuple[int, int]],
    out: TextIO,
    *,
    color: bool,
) -> None:
    chapter = project.chapter(chapter_id)
    generation = project.generations[ref]
    first, last = stretches[0][0], stretches[-1][1]
    text = chapter.text
    # The book's text is shown with its control characters escaped (``\\x1b``...): only the
    # marks below act on the terminal.
    before = escape_controls(text.text_in(max(0, first - _CONTEXT), first))
    passage = escape_controls(text.text_in(first, last))
    after = escape_controls(text.text_in(last, last + _CONTEXT))
    on, off = (_MARK_ON, _MARK_OFF) if color else ("⟦", "⟧")
    width = min(100, shutil.get_terminal_size((100, 24)).columns)
    out.write("\n" + "─" * width + "\n")
    out.write(
        escape_controls(
            f"{chapter.title} · generation {ref} · "
            f"{model_identity(generation.model, generation.provider)} via {generation.provider}"
        )
        + "\n"
    )
    prompt = next(
        (
            str(m.get("content", ""))
            for m in reversed(generation.messages)
            if m.get("role") in ("user", "prompt")  # "prompt": a plain completion's text
        ),
        "",
    )
    if prompt:
        prompt = escape_controls(textwrap.shorten(prompt, width=width - 7, placeholder="…"))
        out.write("Asked: " + prompt + "\n")
    out.write("\n" + ("…" if first > _CONTEXT else "") + before + on + passage + off + after)
    out.write(("…" if last + _CONTEXT < len(text) else "") + "\n\n")
    out.flush()


def _reject(project: Project, chapter_id: int, ref: str) -> None:
    """Remove the generation's surviving characters; text typed inside it stays."""
    chapter = project.chapter(chapter_id)
    for start, end in reversed(generation_ranges(chapter, ref)):
        project.delete(chapter, start, end - start)


def review_session(
    path: str,
    *,
    reviewer: str | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    ask: Callable[[str], str] | None = None,
) -> tuple[int, int, int]:
    """Run the review; return (approved, rejected, skipped)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if stdin is None or stdout is None or not (stdin.isatty() and stdout.isatty()):
        raise NoTerminal(
            "coauthor review needs a terminal: a person must read each passage (run it "
            "interactively, not from a script or pipe)"
        )
    ask = ask or input
    project_file = ProjectFile.open(path)
    approved = rejected = skipped = 0
    project: Project | None = None
    try:
        project = project_file.load()
        items = _group(project)
        if not items:
            stdout.write("Nothing is pending review.\n")
            return 0, 0, 0
        name = reviewer or ""
        while not name.strip():
            default = os.environ.get("USER") or getpass.getuser()
            name = ask(f"Your name, recorded with each review [{default}]: ").strip() or default
        stdout.write(f"{len(items)} generation{'s' if len(items) != 1 else ''} pending review.\n")
        color = os.environ.get("NO_COLOR") is None
        for ref, chapter_id, _ in items:
            # Where its text is now: a rejection before it in the chapter moved it.
            stretches = generation_ranges(project.chapter(chapter_id), ref)
            if not stretches:
                continue
            _show(project, ref, chapter_id, stretches, stdout, color=color)
            shown_at = time.monotonic()
            while True:
                answer = (
                    ask("[a]pprove, [r]eject (removes its text), [s]kip, [q]uit? ").strip().lower()
                )
                if answer in ("a", "r", "s", "q"):
                    break
                stdout.write("Please answer a, r, s or q.\n")
            if answer == "q":
                break
            if answer == "s":
                skipped += 1
                continue
            if answer == "a":
                shown_ms = max(1, int((time.monotonic() - shown_at) * 1000))
                problem = project.review_refusal(ref, ReviewState.APPROVED, shown_ms)
                if problem:
                    stdout.write(f"Not approved: {escape_controls(problem)}.\n")
                    skipped += 1
                    continue
                project.review(ref, ReviewState.APPROVED, name, shown_ms=shown_ms)
                approved += 1
            else:
                _reject(project, chapter_id, ref)
                project.review(ref, ReviewState.REJECTED, name)
                rejected += 1
            project_file.flush(project)
        stdout.write(f"Approved {approved}, rejected {rejected}, skipped {skipped}.\n")
    finally:
        project_file.close(project)
    return approved, rejected, skipped
