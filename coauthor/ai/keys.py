"""API keys live in the system keyring, or in ``OPENAI_API_KEY``; never in a file of ours.

With no keyring backend (a headless Linux box) storing a key fails with a sentence that says
so and offers the environment variable; there is no silent plain-text fallback.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["KeyringUnavailable", "delete_key", "get_key", "keyring_status", "mask", "set_key"]

SERVICE = "Coauthor"
ENV_VARIABLE = "OPENAI_API_KEY"


class KeyringUnavailable(Exception):
    """No usable system keyring; the message offers ``OPENAI_API_KEY`` instead."""


def _backend():
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise KeyringUnavailable(
            "No system keyring is available on this computer, so Coauthor cannot store the key "
            f"safely; set the {ENV_VARIABLE} environment variable before starting Coauthor instead."
        )
    return backend


def keyring_status() -> tuple[bool, str]:
    """Whether a keyring is usable, and a sentence saying which or why not."""
    try:
        backend = _backend()
    except KeyringUnavailable as exc:
        return False, str(exc)
    except Exception as exc:  # noqa: BLE001 - a broken backend must not stop the app
        return False, f"The system keyring does not work ({exc}); use {ENV_VARIABLE} instead."
    return True, f"Keys are kept in the system keyring ({type(backend).__name__})."


def get_key(account: str) -> tuple[str | None, str]:
    """The key for ``account`` and where it came from: keyring, environment, or nowhere."""
    try:
        key = _backend().get_password(SERVICE, account)
    except Exception:  # noqa: BLE001 - fall through to the environment
        key = None
    if key:
        return key, "keyring"
    env = os.environ.get(ENV_VARIABLE)
    if env and account == "openai":
        return env, "environment"
    return None, "none"


def set_key(account: str, key: str) -> None:
    _backend().set_password(SERVICE, account, key)


def delete_key(account: str) -> None:
    import keyring.errors

    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        _backend().delete_password(SERVICE, account)


def mask(key: str | None) -> str:
    """What may be shown of a key: its first three and last four characters at most."""
    if not key:
        return ""
    if len(key) < 12:
        return "•" * 8
    return f"{key[:3]}…{key[-4:]}"
