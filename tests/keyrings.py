"""A keyring in a dict, for tests: a working system keyring without touching the machine's."""

from __future__ import annotations

import keyring.backend
import keyring.errors


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps keys in a dict: a working system keyring, for the test only."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.keys.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.keys[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.keys.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)
