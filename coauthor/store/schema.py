"""The layout of a ``.coauthor`` file and the migrations between its versions.

``PRAGMA application_id`` marks the file as ours; ``PRAGMA user_version`` is the schema
version. To change the schema, add ``_migrate_to_N`` and raise ``SCHEMA_VERSION``: opening
an older file runs the missing steps in order, after a backup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

APPLICATION_ID = 0x436F4175  # "CoAu"
SCHEMA_VERSION = 1


def _migrate_to_1(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")  # type: ignore[union-attr]
    db["chapters"].create(  # type: ignore[union-attr]
        {
            "id": int,
            "position": int,
            "title": str,
            "removed": int,
            "text": str,
            "runs": str,
            "process": str,
            "snapshot_seq": int,
        },
        pk="id",
    )
    db["events"].create(  # type: ignore[union-attr]
        {
            "seq": int,
            "chapter": int,
            "kind": str,
            "pos": int,
            "deleted": str,
            "inserted": str,
            "origin": str,
            "ref": str,
            "runs": str,
            "payload": str,
            "time": int,
            "hash": bytes,
        },
        pk="seq",
        not_null={"chapter", "kind", "pos", "time", "hash"},
    )
    db["events"].create_index(["chapter", "seq"], index_name="events_by_chapter")  # type: ignore[union-attr]
    db["generations"].create(  # type: ignore[union-attr]
        {
            "id": str,
            "chapter": int,
            "provider": str,
            "model": str,
            "parameters": str,
            "messages": str,
            "output": str,
            "outcome": str,
            "created": int,
            "finished": int,
            "review_state": str,
            "reviewer": str,
            "reviewed_at": int,
            "note": str,
            "inserted_at": int,
            "timing": str,
            "error": str,
        },
        pk="id",
    )
    db["reviews"].create(  # type: ignore[union-attr]
        {"seq": int, "generation": str, "state": str, "reviewer": str, "time": int},
        pk="seq",
    )
    db["overrides"].create(  # type: ignore[union-attr]
        {"text_hash": str, "categories": str, "reason": str, "reviewer": str, "time": int},
        pk="text_hash",
    )
    db["imports"].create(  # type: ignore[union-attr]
        {
            "id": str,
            "source": str,
            "kind": str,
            "own_writing": int,
            "encoding": str,
            "sha256": str,
            "time": int,
            "details": str,
        },
        pk="id",
    )


MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {1: _migrate_to_1}


def migrate(db: sqlite_utils.Database, from_version: int) -> None:
    """Bring a file from ``from_version`` to ``SCHEMA_VERSION`` in the caller's transaction."""
    for version in range(from_version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](db)
        db.execute(f"PRAGMA user_version = {version}")
