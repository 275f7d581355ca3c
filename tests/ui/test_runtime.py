"""The Qt binding in the environment: long sessions must not wear out the interpreter.

PySide6 6.12.0 on Python 3.11 takes one reference from ``None`` on every call that returns
nothing; without the guard in ``coauthor.ui`` the editor aborts ("none_dealloc") after about a
minute of typing. A child process makes more such calls than a long day of writing would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]

_CHILD = textwrap.dedent(
    """
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication, QLabel

    calls = 2 * sys.getrefcount(None) + 20_000  # more than None has references to give
    import coauthor.ui  # noqa: F401  (the guard runs on import)

    app = QApplication([])
    label = QLabel()
    for _ in range(calls):
        label.setText("x")  # returns nothing
    print("survived", flush=True)
    """
)


def test_many_qt_calls_do_not_exhaust_none() -> None:
    child = subprocess.run(
        [sys.executable, "-c", _CHILD],
        capture_output=True,
        text=True,
        cwd=_REPO,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == "survived"
