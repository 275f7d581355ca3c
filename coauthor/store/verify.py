"""Verify a project file: the hash chain, a replay of the whole history, and the snapshots."""

from __future__ import annotations

from dataclasses import dataclass

from coauthor.core.book import empty_counts
from coauthor.core.history import GENESIS, ReplayError, apply_event, event_hash, runs_from_json
from coauthor.core.provenance import ProvenanceText
from coauthor.store.projectfile import ProjectFile, _process_from_json


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    message: str
    bad_event: int | None = None


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def verify(project_file: ProjectFile) -> VerifyResult:
    """Replay every event from an empty book and compare with what the file stores."""
    snapshots = project_file.snapshots()
    texts: dict[int, ProvenanceText] = {cid: ProvenanceText() for cid in snapshots}
    process = {cid: empty_counts() for cid in snapshots}
    checked: set[int] = set()
    prev = GENESIS
    expected_seq = 1
    count = 0

    def compare(cid: int, after: int) -> str | None:
        text, runs, stored_process, _ = snapshots[cid]
        replayed = texts[cid]
        if replayed.text != text:
            at = _first_difference(replayed.text, text)
            return (
                f"chapter {cid}: the stored text differs from the replayed history at "
                f"character {at} (after event {after})"
            )
        if list(replayed.runs()) != runs_from_json(runs):
            return (
                f"chapter {cid}: the stored origins differ from the replayed history "
                f"(after event {after})"
            )
        if process[cid] != _process_from_json(stored_process):
            return f"chapter {cid}: the stored process figures differ from the replayed history"
        return None

    for event in project_file.events():
        count += 1
        if event.seq != expected_seq:
            return VerifyResult(
                False, count, f"event {expected_seq} is missing from the history", expected_seq
            )
        if event_hash(prev, event) != event.hash:
            return VerifyResult(
                False,
                count,
                f"event {event.seq} does not match its hash: it was changed after it was written",
                event.seq,
            )
        prev = event.hash
        expected_seq += 1
        if event.kind == "m":
            continue
        if event.chapter not in texts:
            return VerifyResult(
                False,
                count,
                f"event {event.seq} edits chapter {event.chapter}, which does not exist",
                event.seq,
            )
        # Events after a chapter's snapshot are replayed on open; compare at the snapshot.
        snap_seq = snapshots[event.chapter][3]
        if event.seq > snap_seq and event.chapter not in checked:
            problem = compare(event.chapter, snap_seq)
            if problem:
                return VerifyResult(False, count, problem, None)
            checked.add(event.chapter)
        try:
            apply_event(texts[event.chapter], event, process[event.chapter], check=True)
        except ReplayError as exc:
            return VerifyResult(
                False, count, f"event {event.seq} does not apply: it {exc}", event.seq
            )
    for cid in snapshots:
        if cid not in checked:
            problem = compare(cid, expected_seq - 1)
            if problem:
                return VerifyResult(False, count, problem, None)
    return VerifyResult(True, count, f"verified {count} events in {len(snapshots)} chapters")
