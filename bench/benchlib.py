"""What the benchmark scripts share: their results table, their targets' verdicts, and the
editing trace they replay.

Each script puts this folder at the *end* of ``sys.path`` (after the standard library, so that
``bench/typing.py`` never stands in for the standard ``typing``) and imports from here.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

TRACE = Path(__file__).resolve().parent.parent / "data" / "traces" / "automerge-paper.json.gz"

Check = tuple[str, bool | None, str]
"""A target's verdict: what it is, whether it is met (None: not measured), the figure."""

Op = tuple[int, int, str, int]
"""One edit of the trace: ``(pos, ndel, ins, time in epoch ms)``."""


def table(
    headers: tuple[str, ...], rows: list[tuple[str, ...]], left: tuple[int, ...] = (0,)
) -> None:
    """Print rows under headers, columns aligned (right, except the ``left`` ones)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    line = fmt(headers)
    print(line)
    print("-" * len(line))
    for row in rows:
        print(fmt(row))


def _status(ok: bool | None) -> str:
    return "SKIP" if ok is None else ("PASS" if ok else "FAIL")


def print_targets(checks: list[Check]) -> None:
    """The targets, one line each: PASS, FAIL or SKIP (not measured), then the figure."""
    print("\ntargets:")
    for label, ok, detail in checks:
        print(f"  {_status(ok)}  {label}: {detail or 'not measured'}")


def targets_json(checks: list[Check]) -> list[dict[str, str]]:
    """The targets as ``--json`` reports them."""
    return [
        {"target": label, "status": _status(ok), "value": detail} for label, ok, detail in checks
    ]


def load_trace() -> tuple[list[Op], str]:
    """The keystroke-level editing trace (``data/traces``): its operations and final text."""
    with gzip.open(TRACE, "rt", encoding="utf-8") as f:
        data = json.load(f)
    if data["startContent"]:
        raise SystemExit(f"{TRACE.name}: the trace does not start from an empty document")
    ops: list[Op] = []
    for txn in data["txns"]:
        when = int(datetime.fromisoformat(txn["time"]).timestamp() * 1000)
        ops.extend((int(pos), int(ndel), str(ins), when) for pos, ndel, ins in txn["patches"])
    return ops, data["endContent"]
