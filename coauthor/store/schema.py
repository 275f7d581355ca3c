"""The layout of a ``.coauthor`` file and the migrations between its versions.

``PRAGMA application_id`` marks the file as ours; ``PRAGMA user_version`` is the schema
version. To change the schema, add ``_migrate_to_N`` and raise ``SCHEMA_VERSION``: opening
an older file runs the missing steps in order, after a backup.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable

APPLICATION_ID = 0x436F4175  # "CoAu"
SCHEMA_VERSION = 2


_SCHEMA_1 = (
    'CREATE TABLE "meta" (\n   "key" TEXT PRIMARY KEY,\n   "value" TEXT\n)',
    'CREATE TABLE "chapters" (\n   "id" INTEGER PRIMARY KEY,\n   "position" INTEGER,\n   "title" TEXT,\n   "removed" INTEGER,\n   "text" TEXT,\n   "runs" TEXT,\n   "process" TEXT,\n   "snapshot_seq" INTEGER\n)',
    'CREATE TABLE "events" (\n   "seq" INTEGER PRIMARY KEY,\n   "chapter" INTEGER NOT NULL,\n   "kind" TEXT NOT NULL,\n   "pos" INTEGER NOT NULL,\n   "deleted" TEXT,\n   "inserted" TEXT,\n   "origin" TEXT,\n   "ref" TEXT,\n   "runs" TEXT,\n   "payload" TEXT,\n   "time" INTEGER NOT NULL,\n   "hash" BLOB NOT NULL\n)',
    'CREATE INDEX "events_by_chapter"\n    ON "events" ("chapter", "seq")',
    'CREATE TABLE "generations" (\n   "id" TEXT PRIMARY KEY,\n   "chapter" INTEGER,\n   "provider" TEXT,\n   "model" TEXT,\n   "parameters" TEXT,\n   "messages" TEXT,\n   "output" TEXT,\n   "outcome" TEXT,\n   "created" INTEGER,\n   "finished" INTEGER,\n   "review_state" TEXT,\n   "reviewer" TEXT,\n   "reviewed_at" INTEGER,\n   "note" TEXT,\n   "inserted_at" INTEGER,\n   "timing" TEXT,\n   "error" TEXT\n)',
    'CREATE TABLE "reviews" (\n   "seq" INTEGER PRIMARY KEY,\n   "generation" TEXT,\n   "state" TEXT,\n   "reviewer" TEXT,\n   "time" INTEGER\n)',
    'CREATE TABLE "overrides" (\n   "text_hash" TEXT PRIMARY KEY,\n   "categories" TEXT,\n   "reason" TEXT,\n   "reviewer" TEXT,\n   "time" INTEGER\n)',
    'CREATE TABLE "imports" (\n   "id" TEXT PRIMARY KEY,\n   "source" TEXT,\n   "kind" TEXT,\n   "own_writing" INTEGER,\n   "encoding" TEXT,\n   "sha256" TEXT,\n   "time" INTEGER,\n   "details" TEXT\n)',
)
"""Version 1, as sqlite-utils first wrote it (the same SQL, so every file's schema reads alike)."""


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_1:
        conn.execute(statement)


def _migrate_to_2(conn: sqlite3.Connection) -> None:
    # Loading reads every fact from the chain: its meta events, and each generation's first
    # insertion, found through these partial indexes without reading the text events.
    conn.execute("CREATE INDEX events_meta ON events (seq) WHERE kind = 'm'")
    conn.execute("CREATE INDEX events_ai ON events (ref, time) WHERE kind = 'e' AND origin = 'a'")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
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
    conn = sqlite3.connect(":memory:")
    try:
        for step in range(1, version + 1):
            MIGRATIONS[step](conn)
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


def migrate(conn: sqlite3.Connection, from_version: int) -> None:
    """Bring a file from ``from_version`` to ``SCHEMA_VERSION`` in the caller's transaction."""
    for version in range(from_version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](conn)
        conn.execute(f"PRAGMA user_version = {version}")
