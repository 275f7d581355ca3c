"""The author's signing key: Ed25519, kept in the system keyring only, never in a file.

``AuthorKey.load_or_create(author)`` reads the author's private key from the system keyring
(service ``Coauthor``, account ``signing-key:<author>``, the raw 32-byte key in base64), and
creates and stores one on first use. Its public key and fingerprint are what exports carry and
what the project's chain records (``Project.record_signing_key``); the private key is never
written anywhere else, logged or shown (``repr`` leaves it out).

Without a usable keyring backend ``load_or_create`` raises ``KeyringUnavailable`` with a
sentence saying so; exports are then made unsigned, hash-checked only, and say it.

A fingerprint is the first 16 bytes of the SHA-256 of the raw public key, in hex, in eight
groups of four separated by colons (``3f2a:…:9c01``); ``normal_fingerprint`` accepts any
spelling with or without separators.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

__all__ = [
    "ALGORITHM",
    "SERVICE",
    "AuthorKey",
    "KeyringUnavailable",
    "account_for",
    "fingerprint",
    "normal_fingerprint",
    "verify_signature",
]

SERVICE = "Coauthor"
ALGORITHM = "ed25519"
_ACCOUNT_PREFIX = "signing-key:"


class KeyringUnavailable(Exception):
    """No usable system keyring: exports can be hash-checked but not signed."""


def _backend():
    import keyring
    from keyring.backends import fail

    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        raise KeyringUnavailable(f"the system keyring does not work ({exc})") from exc
    if isinstance(backend, fail.Keyring):
        raise KeyringUnavailable(
            "no system keyring is available on this computer, so Coauthor has no signing key "
            "(it keeps that key in the keyring only, never in a file)"
        )
    return backend


def account_for(author: str) -> str:
    """The keyring account of an author's signing key."""
    name = " ".join(author.split())
    return _ACCOUNT_PREFIX + (name or "default")


def fingerprint(public_key: bytes) -> str:
    """First 16 bytes of SHA-256 of the raw public key: hex, groups of four, colons."""
    digest = hashlib.sha256(public_key).hexdigest()[:32]
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def normal_fingerprint(text: str) -> str:
    """A fingerprint as Coauthor writes it, from any spelling (spaces, dashes, upper case)."""
    digits = re.sub(r"[^0-9a-f]", "", text.lower())
    return ":".join(digits[i : i + 4] for i in range(0, len(digits), 4))


class AuthorKey:
    """An author's Ed25519 key pair, loaded from or created in the system keyring."""

    __slots__ = ("_private", "name", "public_key")

    def __init__(self, private: Ed25519PrivateKey, name: str) -> None:
        self._private = private
        self.name = name
        self.public_key = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def __repr__(self) -> str:
        return f"AuthorKey(name={self.name!r}, fingerprint={self.fingerprint!r})"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key).decode("ascii")

    def sign(self, data: bytes) -> str:
        """The Ed25519 signature of ``data``, base64."""
        return base64.b64encode(self._private.sign(data)).decode("ascii")

    @classmethod
    def generate(cls, name: str) -> AuthorKey:
        """A fresh key that lives in memory only (tests; a keyring-backed key comes from
        ``load_or_create``)."""
        return cls(Ed25519PrivateKey.generate(), name)

    @classmethod
    def load_or_create(cls, author: str) -> AuthorKey:
        """The author's key from the keyring; created and stored there on first use.

        Raises ``KeyringUnavailable`` when there is no usable keyring.
        """
        backend = _backend()
        account = account_for(author)
        name = " ".join(author.split()) or "the author"
        try:
            stored = backend.get_password(SERVICE, account)
        except Exception as exc:
            raise KeyringUnavailable(f"the system keyring cannot be read ({exc})") from exc
        if stored:
            try:
                raw = base64.b64decode(stored, validate=True)
                return cls(Ed25519PrivateKey.from_private_bytes(raw), name)
            except (binascii.Error, ValueError) as exc:
                raise KeyringUnavailable(
                    f"the signing key stored in the system keyring for {name} is damaged; "
                    f"remove the entry {account!r} of {SERVICE!r} to have a new one made"
                ) from exc
        key = cls.generate(name)
        raw = key._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        try:
            backend.set_password(SERVICE, account, base64.b64encode(raw).decode("ascii"))
            if backend.get_password(SERVICE, account) is None:
                raise KeyringUnavailable("the system keyring did not keep the new signing key")
        except KeyringUnavailable:
            raise
        except Exception as exc:
            raise KeyringUnavailable(
                f"the system keyring cannot store a signing key ({exc})"
            ) from exc
        return key


def verify_signature(public_key_b64: str, signature_b64: str, data: bytes) -> bool:
    """Whether ``signature_b64`` is the Ed25519 signature of ``data`` by that public key."""
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
        public.verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
