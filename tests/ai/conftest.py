"""Fixtures of the provider tests: a scripted chat server, and no real keyring or key."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from chat_server import ChatServer
from keyring.backends import fail


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1, stopped after the test."""
    server = ChatServer().start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.errors, f"the chat server failed: {server.errors}"


@pytest.fixture(autouse=True)
def _isolated_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the developer's keyring or key: the fail backend, no OPENAI_API_KEY."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)
