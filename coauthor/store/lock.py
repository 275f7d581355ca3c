"""One writer per project: an advisory lock file beside the project.

The lock is an ``fcntl`` lock on ``NAME.coauthor.lock``, so it disappears with the process that
held it, even after SIGKILL; the file also records who holds it, for the refusal message.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from coauthor.store.errors import ProjectFileError

__all__ = ["ProjectLock"]


class ProjectLock:
    def __init__(self, project_path: Path) -> None:
        self.path = project_path.with_name(project_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self, *, creating: bool = False) -> None:
        """Take the lock or raise ``ProjectFileError`` naming the process that holds it
        (``creating``: the project is being made, so the holder is another import)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            # A folder we cannot write to: there can be no other writer either.
            if exc.errno in (13, 30):  # EACCES, EROFS
                return
            raise ProjectFileError(f"Cannot lock {self.path}: {exc.strerror}.") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            os.close(fd)
            project = self.path.name.removesuffix(".lock")
            if creating:
                raise ProjectFileError(
                    f"{project} is already being created by another import{holder}; wait for "
                    "it to finish, then import into it."
                ) from None
            raise ProjectFileError(
                f"{project} is already open in another Coauthor window or command{holder}; "
                "close it there first."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": os.uname().nodename}).encode())
        self._fd = fd

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except (OSError, ValueError):
            return ""
        pid = info.get("pid")
        return f" (process {pid} on {info.get('host', '?')})" if pid else ""

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
