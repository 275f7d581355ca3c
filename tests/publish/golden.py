"""Golden files: compare an export with its reviewed reference under ``tests/reference``.

A missing reference is written and the test fails, so that it gets reviewed before it counts;
``COAUTHOR_UPDATE_REFERENCE=1`` rewrites every reference after an intended change (review the
diff before committing). Lines matching ``volatile`` (dates, identifiers) are ignored.

The book most references are made from is ``fixed_time_sample``: the sample book with fixed
times, so that they do not depend on when the tests run.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from coauthor.app.sample import build_sample
from coauthor.core.generation import ReviewState
from coauthor.core.project import Project
from coauthor.store import ProjectFile

_MANIFEST_LINE = re.compile(r'coauthor_manifest: "|<pre id="coauthor-manifest"')


def reference_problem(
    actual: str, reference: Path, volatile: re.Pattern[str] | None = None
) -> str | None:
    """Why ``actual`` does not match ``reference``; None when it does.

    The provenance manifest's line is left out of both: it names the history's head, whose
    hash changes with every build of the book (``tests/publish/test_manifest.py`` checks it).
    """
    actual = "".join(line for line in actual.splitlines(True) if not _MANIFEST_LINE.match(line))
    if os.environ.get("COAUTHOR_UPDATE_REFERENCE") == "1" or not reference.exists():
        existed = reference.exists()
        reference.parent.mkdir(parents=True, exist_ok=True)
        reference.write_text(actual, encoding="utf-8", newline="\n")
        if not existed:
            return f"wrote the missing reference {reference}; review it, then run again"

    def stable(text: str) -> list[str]:
        return [line for line in text.split("\n") if not (volatile and volatile.search(line))]

    expected = stable(reference.read_text(encoding="utf-8"))
    produced = stable(actual)
    if produced == expected:
        return None
    diff = "\n".join(
        difflib.unified_diff(expected, produced, str(reference), "this export", lineterm="")
    )
    return f"the export differs from {reference.name}:\n{diff}"


def assert_matches_reference(
    actual: str, reference: Path, volatile: re.Pattern[str] | None = None
) -> None:
    problem = reference_problem(actual, reference, volatile)
    if problem:
        pytest.fail(problem)


# -- the golden files' book --------------------------------------------------------------------


FIXED = 1_767_225_600_000  # 2026-01-01T00:00:00Z
"""The time the golden files' sample book was made at: its generations, reviews and imports
get times from it, so the references do not depend on when the tests run."""


def load_project(path: Path) -> Project:
    """A project file's project (read-only)."""
    project_file = ProjectFile.open(path, readonly=True)
    try:
        return project_file.load()
    finally:
        project_file.close()


def fixed_time_sample(folder: Path) -> Project:
    """The sample book with fixed times, its pending passage approved by "Tester" (the
    golden files' book)."""
    project = load_project(build_sample(folder / "sample.coauthor"))
    project.clock = lambda: FIXED
    for n, generation in enumerate(project.generations.values()):
        generation.created = FIXED + n * 60_000
        generation.finished = FIXED + n * 60_000 + 1_500
        generation.inserted_at = FIXED + n * 60_000 + 2_000
        if generation.reviewed_at is not None:
            generation.reviewed_at = FIXED + n * 60_000 + 30_000
    for n, record in enumerate(project.imports.values()):
        record.time = FIXED - (n + 1) * 3_600_000
    project.review("g2", ReviewState.APPROVED, "Tester", shown_ms=1000)
    return project
