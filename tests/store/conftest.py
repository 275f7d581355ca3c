"""Fixtures for the project-file tests: run the real ``coauthor`` command, find the data."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[bytes]]


def _run_cli(*args: object, cwd: Path | None = None, env: dict[str, str] | None = None):
    """``coauthor ARGS`` in a fresh interpreter, as a user runs it; output kept as bytes."""
    return subprocess.run(
        [sys.executable, "-m", "coauthor.cli", *map(str, args)],
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def cli() -> Cli:
    return _run_cli


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "data"
