"""The editor killed with SIGKILL while the author types: at most about a second is lost.

What is guaranteed: every change is written by the autosave within half a second of the first
change after the previous write (one SQLite transaction in WAL mode), so a process killed at
any moment leaves a file that opens and passes ``coauthor verify``, holding the chapter as it
was at the last completed autosave. The typing lost is what came after that write: under a
second of typing, measured here against the child's own report of how much it had typed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coauthor.app.sample import build_sample
from coauthor.core.origin import Origin
from coauthor.store import ProjectFile

_REPO = Path(__file__).resolve().parents[2]
BATCH = 5  # characters typed per timer tick
TARGET = 1500  # characters typed before the kill
GUARANTEE_S = 1.0  # at most this much typing may be lost


def stream(n: int) -> str:
    """What the child types: numbered words, so any prefix identifies itself."""
    return "".join(f"{i:05d} " for i in range(n // 6 + 1))[:n]


_CHILD = textwrap.dedent(
    f"""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QTextCursor
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from coauthor.ui.app import create_window
    from coauthor.ui.settings import AppSettings

    path, config, data = sys.argv[1:4]
    window = create_window(AppSettings(Path(config), Path(data)), [path])
    window.show()
    editor = window.editor
    editor.moveCursor(QTextCursor.MoveOperation.End)
    TEXT = "".join(f"{{i:05d}} " for i in range(100_000))
    typed = 0

    def tick():
        global typed
        chunk = TEXT[typed : typed + {BATCH}]
        QTest.keyClicks(editor, chunk)
        typed += len(chunk)
        print(typed, time.monotonic(), flush=True)

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    print("ready", flush=True)
    app.exec()
    """
)


def _read_reports(lines: list[str]) -> list[tuple[int, float]]:
    reports = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2:
            reports.append((int(parts[0]), float(parts[1])))
    return reports


@pytest.mark.timeout(120)
def test_sigkill_while_typing_loses_at_most_a_second(tmp_path: Path) -> None:
    path = build_sample(tmp_path / "book.coauthor")
    project_file = ProjectFile.open(path, readonly=True)
    original = project_file.load().chapters[0].text.text
    project_file.close()

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with (tmp_path / "child.err").open("w") as errors:
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                str(path),
                str(tmp_path / "cfg"),
                str(tmp_path / "data"),
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=_REPO,
            env=env,
        )
        assert child.stdout is not None
        lines: list[str] = []
        try:
            for line in child.stdout:
                lines.append(line)
                reports = _read_reports(lines[-1:])
                if reports and reports[0][0] >= TARGET:
                    break
            else:
                pytest.fail(f"the child stopped early: {(tmp_path / 'child.err').read_text()}")
        finally:
            child.send_signal(signal.SIGKILL)
            lines.extend(child.stdout.read().splitlines())  # what it printed before dying
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    reports = _read_reports(lines)
    typed_last, time_last = reports[-1]
    typed_a_second_earlier = max((n for n, t in reports if t <= time_last - GUARANTEE_S), default=0)
    may_lose = typed_last - typed_a_second_earlier  # the typing of the last second
    rate = (typed_last - reports[0][0]) / max(1e-6, time_last - reports[0][1])
    assert rate > 100, f"the child typed only {rate:.0f} characters a second"

    # The file opens and checks out, whatever moment the kill hit.
    verify = subprocess.run(
        [sys.executable, "-m", "coauthor.cli", "verify", str(path)],
        capture_output=True,
        text=True,
        cwd=_REPO,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    assert "OK" in verify.stdout

    project_file = ProjectFile.open(path)  # the dead child's lock is gone with it
    try:
        chapter = project_file.load().chapters[0]
    finally:
        project_file.close()
    text = chapter.text.text
    assert text.startswith(original)
    saved = text[len(original) :]
    assert saved == stream(len(saved))  # a prefix of what was typed, nothing else
    # Lost at most the last second; at most one batch typed after the last report.
    assert typed_last - may_lose <= len(saved) <= typed_last + BATCH, (
        f"saved {len(saved)} of {typed_last} typed; allowed loss {may_lose} ({rate:.0f}/s)"
    )
    assert list(chapter.text.runs_in(len(original), len(text))) == [
        (len(saved), Origin.HUMAN, None)
    ]
