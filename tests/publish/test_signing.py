"""The author's signing key: Ed25519 in the system keyring only, created on first use."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from coauthor.publish import signing
from coauthor.publish.signing import (
    AuthorKey,
    KeyringUnavailable,
    fingerprint,
    normal_fingerprint,
    verify_signature,
)


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict, for tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_a_key_is_created_on_first_use_and_kept_in_the_keyring(memory: MemoryKeyring) -> None:
    first = AuthorKey.load_or_create("Ada  Marlowe")
    assert list(memory.store) == [("Coauthor", "signing-key:Ada Marlowe")]
    stored = memory.store[("Coauthor", "signing-key:Ada Marlowe")]
    assert len(base64.b64decode(stored)) == 32  # the raw private key, nowhere else
    again = AuthorKey.load_or_create("Ada Marlowe")
    assert again.public_key == first.public_key
    assert again.fingerprint == first.fingerprint
    assert again.name == "Ada Marlowe"
    other = AuthorKey.load_or_create("")
    assert ("Coauthor", "signing-key:default") in memory.store
    assert other.fingerprint != first.fingerprint


def test_the_private_key_is_never_shown(memory: MemoryKeyring) -> None:
    key = AuthorKey.load_or_create("Ada")
    stored = memory.store[("Coauthor", "signing-key:Ada")]
    assert stored not in repr(key)
    assert stored not in str(key)
    assert key.fingerprint in repr(key)
    assert not hasattr(key, "__dict__")  # nothing but the slots: no stray copy of the key


def test_without_a_keyring_there_is_no_key(no_keyring: None) -> None:
    with pytest.raises(KeyringUnavailable, match="no system keyring"):
        AuthorKey.load_or_create("Ada")


def test_a_keyring_that_fails_is_reported(memory: MemoryKeyring, monkeypatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("locked")

    monkeypatch.setattr(memory, "get_password", broken)
    with pytest.raises(KeyringUnavailable, match="locked"):
        AuthorKey.load_or_create("Ada")


def test_a_damaged_stored_key_is_reported(memory: MemoryKeyring) -> None:
    memory.store[(signing.SERVICE, signing.account_for("Ada"))] = "not base64!"
    with pytest.raises(KeyringUnavailable, match="damaged"):
        AuthorKey.load_or_create("Ada")


def test_signatures_verify_with_the_public_key_only() -> None:
    key = AuthorKey.generate("Ada")
    other = AuthorKey.generate("Eve")
    signature = key.sign(b"the manifest")
    assert verify_signature(key.public_key_b64, signature, b"the manifest")
    assert not verify_signature(key.public_key_b64, signature, b"the manifest!")
    assert not verify_signature(other.public_key_b64, signature, b"the manifest")
    assert not verify_signature(key.public_key_b64, "not base64", b"the manifest")
    assert not verify_signature("AAAA", signature, b"the manifest")


def test_fingerprints() -> None:
    key = AuthorKey.generate("Ada")
    fp = key.fingerprint
    assert fp == fingerprint(key.public_key)
    groups = fp.split(":")
    assert len(groups) == 8
    assert all(len(g) == 4 and int(g, 16) >= 0 for g in groups)
    assert normal_fingerprint(fp.upper().replace(":", " ")) == fp
    assert normal_fingerprint(fp.replace(":", "")) == fp
