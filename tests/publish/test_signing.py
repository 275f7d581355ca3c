"""The author's signing key: Ed25519 in the system keyring only, created on first use."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from coauthor.publish import signing
from coauthor.publish.signing import (
    AuthorKey,
    KeyringUnavailable,
    fingerprint,
    normal_fingerprint,
    verify_signature,
)

if TYPE_CHECKING:
    from keyrings import MemoryKeyring


def test_a_key_is_created_on_first_use_and_kept_in_the_keyring(
    memory_keyring: MemoryKeyring,
) -> None:
    first = AuthorKey.load_or_create("Ada  Marlowe")
    assert list(memory_keyring.keys) == [("Coauthor", "signing-key:Ada Marlowe")]
    stored = memory_keyring.keys[("Coauthor", "signing-key:Ada Marlowe")]
    assert len(base64.b64decode(stored)) == 32  # the raw private key, nowhere else
    again = AuthorKey.load_or_create("Ada Marlowe")
    assert again.public_key == first.public_key
    assert again.fingerprint == first.fingerprint
    assert again.name == "Ada Marlowe"
    other = AuthorKey.load_or_create("")
    assert ("Coauthor", "signing-key:default") in memory_keyring.keys
    assert other.fingerprint != first.fingerprint


def test_the_private_key_is_never_shown(memory_keyring: MemoryKeyring) -> None:
    key = AuthorKey.load_or_create("Ada")
    stored = memory_keyring.keys[("Coauthor", "signing-key:Ada")]
    assert stored not in repr(key)
    assert stored not in str(key)
    assert key.fingerprint in repr(key)
    assert not hasattr(key, "__dict__")  # nothing but the slots: no stray copy of the key


def test_without_a_keyring_there_is_no_key(no_keyring: None) -> None:
    with pytest.raises(KeyringUnavailable, match="no system keyring"):
        AuthorKey.load_or_create("Ada")


def test_a_keyring_that_fails_is_reported(memory_keyring: MemoryKeyring, monkeypatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("locked")

    monkeypatch.setattr(memory_keyring, "get_password", broken)
    with pytest.raises(KeyringUnavailable, match="locked"):
        AuthorKey.load_or_create("Ada")


def test_a_damaged_stored_key_is_reported(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.keys[(signing.SERVICE, signing.account_for("Ada"))] = "not base64!"
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
