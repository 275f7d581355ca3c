"""Starting the real app: on a display it shows its window, without one it says so in a sentence.

The display is Xvfb (``scripts/system-deps.sh`` installs it with ``x11-utils`` for
``xwininfo``): the installed ``coauthor`` command starts on Qt's xcb platform, as ``make run``
does, with a fresh settings and data folder, so it builds the first-run sample book and opens it.
The test waits until the window is mapped, saves a screenshot of the display to
``test-output/screenshots/``, then sends SIGTERM, which closes the window as Quit does: the exit
code is 0 and the project's lock is gone.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coauthor.ui.app import NO_DISPLAY, SAMPLE_NAME, display_missing

_REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = _REPO / "test-output" / "screenshots"
WAIT_S = 60.0  # every wait is bounded by this

_GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)
"""


def _coauthor_command() -> list[str]:
    """The installed ``coauthor`` script beside this interpreter (``.venv/bin/coauthor``)."""
    script = Path(sys.executable).parent / "coauthor"
    return [str(script)] if script.exists() else [sys.executable, "-m", "coauthor.cli"]


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user session with no display, and every folder under ``tmp_path``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET", "QT_QPA_PLATFORM"}
        and not key.startswith(("COAUTHOR_", "XDG_"))
    }
    home = tmp_path / "home"
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(runtime),
        COAUTHOR_CONFIG_DIR=str(tmp_path / "config"),
        COAUTHOR_DATA_DIR=str(tmp_path / "data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return env


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, True),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, True),
        ({"QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, False),
        ({"DISPLAY": ":0"}, False),
        ({"WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "wayland"}, False),
    ],
)
def test_display_missing(environ: dict[str, str], missing: bool) -> None:
    assert display_missing(environ) is missing


def test_without_a_display_one_sentence_and_exit_1(tmp_path: Path) -> None:
    """Instead of Qt's abort ("could not connect to display", SIGABRT, a core dump)."""
    result = subprocess.run(
        _coauthor_command(),
        env=_clean_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip() == NO_DISPLAY
    assert not (tmp_path / "data" / SAMPLE_NAME).exists()


# -- the real app on Xvfb -----------------------------------------------------------------------


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A virtual X display on a free number (Xvfb ``-displayfd`` picks it); yields ``:N``."""
    if shutil.which("Xvfb") is None or shutil.which("xwininfo") is None:
        pytest.skip("Xvfb and xwininfo are not installed (scripts/system-deps.sh installs them)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        number = b""
        deadline = time.monotonic() + WAIT_S
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(read_end, 16) if ready else b""
            if not chunk:
                pytest.fail(f"Xvfb did not start (exit code {server.poll()})")
            number += chunk
        yield f":{int(number)}"
    finally:
        os.close(read_end)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _mapped_window(display: str, title: re.Pattern[str]) -> str | None:
    """The id of a viewable top-level window whose name matches ``title``, if there is one."""
    env = {**os.environ, "DISPLAY": display}
    tree = subprocess.run(
        ["xwininfo", "-root", "-children"],
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=10,
        check=False,
    ).stdout
    for line in tree.splitlines():
        match = re.match(r"\s*(0x[0-9a-f]+) \"(.*)\":", line)
        if match and title.search(match[2]):
            info = subprocess.run(
                ["xwininfo", "-id", match[1]],
                env=env,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=10,
                check=False,
            ).stdout
            if "Map State: IsViewable" in info:
                return match[1]
    return None


@pytest.mark.slow
def test_the_app_opens_its_window_on_x11(xvfb: str, tmp_path: Path) -> None:
    env = {**_clean_env(tmp_path), "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb"}
    log = tmp_path / "coauthor.log"
    sample = tmp_path / "data" / SAMPLE_NAME
    lock = sample.with_name(sample.name + ".lock")
    with log.open("wb") as out:
        app = subprocess.Popen(
            _coauthor_command(), env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        title = re.compile(r"The Tide Clock .* Coauthor")
        deadline = time.monotonic() + WAIT_S
        window = None
        while window is None and app.poll() is None and time.monotonic() < deadline:
            window = _mapped_window(xvfb, title)
            if window is None:
                time.sleep(0.25)
        output = log.read_text(errors="replace")[-3000:]
        assert window is not None, f"no Coauthor window (exit code {app.poll()}):\n{output}"
        assert lock.exists(), "the sample book is not open"

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / "startup-xvfb.png"
        shot.unlink(missing_ok=True)
        time.sleep(1.0)  # let the first paint finish
        grab = subprocess.run(
            [sys.executable, "-c", _GRAB, str(shot)],
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT_S,
            check=False,
        )
        assert grab.returncode == 0, grab.stderr[-2000:]
        assert shot.stat().st_size > 10_000  # a painted window, not a black screen

        app.send_signal(signal.SIGTERM)
        code = app.wait(timeout=WAIT_S)
        output = log.read_text(errors="replace")[-3000:]
        assert code == 0, output
        assert not lock.exists(), "SIGTERM left the project open"
        assert "Traceback" not in output, output
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
