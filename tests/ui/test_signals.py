"""Stopping the app with SIGTERM (logout, ``kill``) closes the project as Quit does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from coauthor.store import ProjectFile
from coauthor.store.verify import verify


def test_sigterm_closes_the_project_cleanly(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "COAUTHOR_CONFIG_DIR": str(tmp_path / "config"),
        "COAUTHOR_DATA_DIR": str(tmp_path / "data"),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "coauthor.cli"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sample = tmp_path / "data" / "Sample - The Tide Clock.coauthor"
    lock = sample.with_name(sample.name + ".lock")
    deadline = time.monotonic() + 60
    while not lock.exists():
        assert child.poll() is None, "the app exited before opening the sample book"
        assert time.monotonic() < deadline, "the app did not open the sample book"
        time.sleep(0.1)
    time.sleep(0.5)  # let the window finish starting
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) == 0
    # Closed as Quit closes it: no lock, no write-ahead log left, and the history verifies.
    assert not lock.exists()
    assert not sample.with_name(sample.name + "-wal").exists()
    project_file = ProjectFile.open(sample, readonly=True)
    try:
        assert verify(project_file).ok
    finally:
        project_file.close()
