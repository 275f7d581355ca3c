"""Golden files: compare an export with its reviewed reference under ``tests/reference``.

A missing reference is written and the test fails, so that it gets reviewed before it counts;
``COAUTHOR_UPDATE_REFERENCE=1`` rewrites every reference after an intended change (review the
diff before committing). Lines matching ``volatile`` (dates, identifiers) are ignored.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest


def reference_problem(
    actual: str, reference: Path, volatile: re.Pattern[str] | None = None
) -> str | None:
    """Why ``actual`` does not match ``reference``; None when it does."""
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
