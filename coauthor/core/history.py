"""The append-only edit history: events, their hash chain, coalescing and replay.

Every change to a chapter's text is an event: position, deleted text, inserted text with its
origin and ref (or its runs, for text moved with its origins kept), and the time. Chapter and
review changes are ``meta`` events with a JSON payload. Each event's hash covers its fields and
the previous event's hash, so changing one stored byte breaks the chain at that event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from coauthor.core.origin import Origin
from coauthor.core.provenance import Fragment, ProvenanceText, Run

__all__ = [
    "GENESIS",
    "EditEvent",
    "History",
    "ReplayError",
    "apply_event",
    "event_hash",
    "row_hash",
    "runs_from_json",
    "runs_to_json",
]

GENESIS = b"\x00" * 32
"""The hash before the first event."""

EDIT = "e"
"""Fresh text: typed, accepted from a generation, pasted or imported. Counts in the process."""
RESTORE = "r"
"""Text put back with its original runs (moved, undone). Does not count in the process."""
META = "m"
"""No text change: chapter added, renamed, moved or removed; a review; an import record."""

_COALESCE_MS = 2000
_COALESCE_MAX = 2000


class ReplayError(Exception):
    """An event does not apply to the text it is replayed onto."""


@dataclass(slots=True)
class EditEvent:
    seq: int
    chapter: int
    kind: str
    pos: int
    deleted: str
    inserted: str
    origin: Origin | None
    ref: str | None
    runs: tuple[Run, ...] | None
    payload: str | None
    time: int
    hash: bytes = b""

    @classmethod
    def from_row(cls, row: tuple) -> EditEvent:
        """The event a row of the store's ``events`` table holds (its columns in order: seq,
        chapter, kind, pos, deleted, inserted, origin code, ref, runs JSON, payload, time,
        hash). Raises ``ValueError``/``KeyError``/``TypeError`` on a malformed row."""
        seq, chapter, kind, pos, deleted, inserted, origin, ref, runs, payload, when, digest = row
        return cls(
            seq,
            chapter,
            kind,
            pos,
            deleted or "",
            inserted or "",
            Origin.from_code(origin) if origin else None,
            ref,
            tuple(runs_from_json(runs)) if runs else None,
            payload,
            when,
            bytes(digest),
        )

    def to_row(self) -> tuple:
        """The row of the store's ``events`` table that holds this event (``from_row``'s
        inverse)."""
        return (
            self.seq,
            self.chapter,
            self.kind,
            self.pos,
            self.deleted,
            self.inserted,
            self.origin.code if self.origin is not None else None,
            self.ref,
            runs_to_json(self.runs) if self.runs else None,
            self.payload,
            self.time,
            self.hash,
        )

    @property
    def meta(self) -> dict[str, object]:
        return json.loads(self.payload) if self.payload else {}


def runs_to_json(runs: Iterable[Run]) -> str:
    return json.dumps([[n, o.code, r] for n, o, r in runs], separators=(",", ":"))


def runs_from_json(data: str) -> list[Run]:
    return [(n, Origin.from_code(o), r) for n, o, r in json.loads(data)]


def event_hash(prev: bytes, event: EditEvent) -> bytes:
    """The chain hash of ``event`` following an event whose hash is ``prev``.

    SHA-256 of ``prev``, then ``seq|chapter|kind|pos|time|``, then each of deleted, inserted,
    origin code, ref, runs (JSON) and payload as ``length:bytes`` (UTF-8). Built as one byte
    string: ``verify`` hashes every event of the history.
    """
    seq, chapter, kind, pos, deleted, inserted, origin, ref, runs, payload, time, _ = event.to_row()
    return row_hash(
        prev, seq, chapter, kind, pos, time, deleted, inserted, origin, ref, runs, payload
    )


def row_hash(
    prev: bytes,
    seq: int,
    chapter: int,
    kind: str,
    pos: int,
    time: int,
    deleted: str | None,
    inserted: str | None,
    origin: str | None,
    ref: str | None,
    runs: str | None,
    payload: str | None,
) -> bytes:
    """``event_hash`` of an event as the store keeps it (origin code, runs as JSON)."""
    encoding = "utf-8"
    d = deleted.encode(encoding, "surrogatepass") if deleted else b""
    i = inserted.encode(encoding, "surrogatepass") if inserted else b""
    o = origin.encode(encoding, "surrogatepass") if origin else b""
    r = ref.encode(encoding, "surrogatepass") if ref else b""
    j = runs.encode(encoding, "surrogatepass") if runs else b""
    p = payload.encode(encoding, "surrogatepass") if payload else b""
    return hashlib.sha256(
        b"%s%d|%d|%s|%d|%d|%d:%s%d:%s%d:%s%d:%s%d:%s%d:%s"
        % (
            prev,
            seq,
            chapter,
            kind.encode(encoding, "surrogatepass"),
            pos,
            time,
            len(d),
            d,
            len(i),
            i,
            len(o),
            o,
            len(r),
            r,
            len(j),
            j,
            len(p),
            p,
        )
    ).digest()


def apply_event(
    text: ProvenanceText,
    event: EditEvent,
    process: dict[Origin, int] | None = None,
    *,
    check: bool = False,
) -> None:
    """Apply a text event to ``text`` (and to the process measure, if given).

    With ``check``, the deleted text is compared with what the document holds there, and a
    mismatch raises ``ReplayError``.
    """
    if event.kind == META:
        return
    pos = event.pos
    if event.deleted:
        n = len(event.deleted)
        if pos < 0 or pos + n > len(text):
            raise ReplayError(f"deletes {n} characters at {pos} but the chapter has {len(text)}")
        if check and not text.holds(pos, event.deleted):
            raise ReplayError(f"deletes text at {pos} that the chapter does not hold there")
        text.delete(pos, n)
    if event.inserted:
        if pos < 0 or pos > len(text):
            raise ReplayError(f"inserts at {pos} but the chapter has {len(text)} characters")
        if event.kind == RESTORE:
            if not event.runs:
                raise ReplayError("restores text without its runs")
            text.insert_fragment(pos, Fragment(event.inserted, event.runs))
        else:
            if event.origin is None:
                raise ReplayError("inserts text without an origin")
            text.insert(pos, event.inserted, event.origin, event.ref)
            if process is not None:
                process[event.origin] += len(event.inserted)


class History:
    """Numbers new events, coalesces typing bursts and seals them into the hash chain.

    Events wait in ``pending`` until the store takes them with ``seal``; only a pending event
    can still grow (a burst of typing at one place, or of backspaces), so what is on disk is
    never rewritten.
    """

    def __init__(self, last_seq: int = 0, last_hash: bytes = GENESIS) -> None:
        self.last_seq = last_seq
        self.last_hash = last_hash
        self.pending: list[EditEvent] = []
        self.coalesce = True
        self.frozen = 0
        """Events up to this number no longer grow (a copy names the state after one)."""

    def record(
        self,
        chapter: int,
        kind: str,
        pos: int,
        deleted: str,
        inserted: str,
        origin: Origin | None,
        ref: str | None,
        time: int,
        runs: tuple[Run, ...] | None = None,
        payload: str | None = None,
    ) -> EditEvent:
        pending = self.pending
        if self.coalesce and kind == EDIT and pending:
            last = pending[-1]
            if (
                last.kind == EDIT
                and last.seq > self.frozen
                and last.chapter == chapter
                and 0 <= time - last.time < _COALESCE_MS
            ):
                if (
                    inserted
                    and not deleted
                    and not last.deleted
                    and last.origin is origin
                    and last.ref == ref
                    and pos == last.pos + len(last.inserted)
                    and len(last.inserted) < _COALESCE_MAX
                ):
                    last.inserted += inserted
                    return last
                if (
                    deleted
                    and not inserted
                    and not last.inserted
                    and len(last.deleted) < _COALESCE_MAX
                ):
                    if pos + len(deleted) == last.pos:  # backspace
                        last.deleted = deleted + last.deleted
                        last.pos = pos
                        return last
                    if pos == last.pos:  # forward delete
                        last.deleted += deleted
                        return last
        self.last_seq += 1
        event = EditEvent(
            self.last_seq, chapter, kind, pos, deleted, inserted, origin, ref, runs, payload, time
        )
        pending.append(event)
        return event

    def seal(self) -> list[EditEvent]:
        """Hash the pending events into the chain and hand them over for writing."""
        events = self.pending
        prev = self.last_hash
        for event in events:
            event.hash = prev = event_hash(prev, event)
        self.last_hash = prev
        self.pending = []
        return events

    def unseal(self, events: list[EditEvent], prev_hash: bytes) -> None:
        """Put back events whose writing failed, so they are written with the next seal."""
        self.pending = events + self.pending
        self.last_hash = prev_hash
