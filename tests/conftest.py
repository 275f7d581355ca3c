"""Shared pytest configuration: Hypothesis profiles, the markers of each test directory, and
the fixtures every directory may use (``cli``: the real ``coauthor`` command; ``data_dir``;
``chat_server``: the scripted OpenAI-compatible server of ``tests/ai/chat_server.py``).

Hypothesis profiles (choose one with ``HYPOTHESIS_PROFILE=name``):

``coauthor`` (default outside CI)
    No deadline (the CI machines are small and shared), a moderate number of examples.
``coauthor-ci`` (default when the ``CI`` environment variable is set)
    Like ``coauthor`` but derandomised and without an example database, so a CI run is
    reproducible from the commit alone.
``coauthor-thorough``
    Ten times the examples, for a long local hunt after touching ``coauthor/core``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import keyring.backends.fail
import pytest
from hypothesis import HealthCheck, settings
from keyrings import MemoryKeyring

if TYPE_CHECKING:
    from chat_server import ChatServer

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("coauthor", max_examples=100, **_COMMON)
settings.register_profile(
    "coauthor-ci", max_examples=100, derandomize=True, database=None, **_COMMON
)
settings.register_profile("coauthor-thorough", max_examples=1000, **_COMMON)
_DEFAULT_PROFILE = "coauthor-ci" if os.environ.get("CI") else "coauthor"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _DEFAULT_PROFILE))

_TESTS = Path(__file__).resolve().parent
_MARKED_DIRS = {_TESTS / "core": pytest.mark.core}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by the directory it lives in (``tests/core`` -> ``core``)."""
    for item in items:
        parents = Path(item.path).resolve().parents
        for directory, marker in _MARKED_DIRS.items():
            if directory in parents:
                item.add_marker(marker)


# -- the real command and the data --------------------------------------------------------------

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
    """The repository's ``data/`` (the novel, the editing trace, the session logs)."""
    return _TESTS.parent / "data"


# -- the scripted chat server -------------------------------------------------------------------

# tests/ai/chat_server.py (and its loopback.py), importable as ``chat_server`` from every folder.
if str(_TESTS / "ai") not in sys.path:
    sys.path.append(str(_TESTS / "ai"))


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1, stopped after the test."""
    from chat_server import ChatServer

    server = ChatServer().start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.errors, f"the chat server failed: {server.errors}"


# -- keyrings ---------------------------------------------------------------------------------


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No usable keyring (the fail backend, as on a headless box) and no OPENAI_API_KEY."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """A working in-memory keyring and no OPENAI_API_KEY."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
