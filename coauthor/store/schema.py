"""The layout of a ``.coauthor`` file and the migrations between its versions.

``PRAGMA application_id`` marks the file as ours; ``PRAGMA user_version`` is the schema
version. To change the schema, add ``_migrate_to_N`` and raise ``SCHEMA_VERSION``: opening
an older file runs the missing steps in order, after a backup.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

APPLICATION_ID = 0x436F4175  # "CoAu"
SCHEMA_VERSION = 2


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


def _migrate_to_2(db: sqlite_utils.Database) -> None:
    # Loading reads every fact from the chain: its meta events, and each generation's first
    # insertion, found through these partial indexes without reading the text events.
    db.execute("CREATE INDEX events_meta ON events (seq) WHERE kind = 'm'")
    db.execute("CREATE INDEX events_ai ON events (ref, time) WHERE kind = 'e' AND origin = 'a'")


MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {
    1: _migrate_to_1,
    2: _migrate_to_2,
}


def _shape(conn: sqlite3.Connection) -> dict[tuple[str, str], object]:
    """What a file's schema consists of: each object, and each table's columns."""
    shape: dict[tuple[str, str], object] = {}
    for kind, name, table in conn.execute(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex_%'"
    ):
        if kind == "table":
            shape[(kind, name)] = tuple(
                tuple(row) for row in conn.execute(f"PRAGMA table_xinfo({_quote(name)})")
            )
        elif kind == "index":
            shape[(kind, name)] = (
                table,
                tuple(tuple(row) for row in conn.execute(f"PRAGMA index_xinfo({_quote(name)})")),
                _partial_clause(conn, name),
            )
        else:
            shape[(kind, name)] = table
    return shape


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _partial_clause(conn: sqlite3.Connection, name: str) -> str:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    sql = (row[0] or "") if row else ""
    at = sql.upper().find(" WHERE ")
    return " ".join(sql[at:].split()) if at >= 0 else ""


@functools.cache
def _expected_shape(version: int) -> dict[tuple[str, str], object]:
    import sqlite_utils

    conn = sqlite3.connect(":memory:")
    try:
        db = sqlite_utils.Database(conn)
        for step in range(1, version + 1):
            MIGRATIONS[step](db)
        return _shape(conn)
    finally:
        conn.close()


def foreign_objects(conn: sqlite3.Connection, version: int) -> list[str]:
    """Schema objects the file holds that this version of Coauthor did not create, as phrases
    (``"a trigger named t"``); a changed table counts too. Empty for a file as we made it."""
    if version not in MIGRATIONS:
        return []
    expected = _expected_shape(version)
    found = _shape(conn)
    problems = []
    for (kind, name), shape in sorted(found.items()):
        if (kind, name) not in expected:
            problems.append(f"a {kind} named {name!r}")
        elif expected[(kind, name)] != shape:
            problems.append(f"a changed {kind} {name!r}")
    problems.extend(
        f"no {kind} named {name!r}" for kind, name in sorted(set(expected) - set(found))
    )
    return problems


def migrate(db: sqlite_utils.Database, from_version: int) -> None:
    """Bring a file from ``from_version`` to ``SCHEMA_VERSION`` in the caller's transaction."""
    for version in range(from_version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](db)
        db.execute(f"PRAGMA user_version = {version}")
