"""Verify a project file: the hash chain, a strict replay of the whole history, and the caches.

The chain is the only truth. ``verify`` replays every event from an empty book with
``ChainReplayer`` in strict mode (hashes, sequence, restores against their sources, approvals
against what was in the book and shown), then checks every table beside the chain against the
project the replay produced: chapter snapshots (text, runs, process figures), chapter titles
and order, generations, the review log, imports, overrides and the book's details. AI text
whose generation the chain does not hold is named too. The first disagreement is reported.

``checked_project`` is what exports use: the project as the chain says it is, or
``ChainMismatch`` with one line naming the first bad event.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import sqlite3
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from coauthor.core.chain import ChainReplayer, restore_source, unknown_ai_text
from coauthor.core.generation import Generation
from coauthor.core.history import GENESIS, row_hash, runs_from_json
from coauthor.core.project import Project
from coauthor.core.provenance import ProvenanceText
from coauthor.store.projectfile import (
    _EVENT_COLUMNS,
    _GENERATION_COLUMNS,
    ProjectFile,
    _generation_from_row,
    _process_from_json,
)

__all__ = ["ChainMismatch", "VerifyResult", "check_links", "checked_project", "verify"]

logger = logging.getLogger(__name__)

PARALLEL_FROM_EVENTS = 50_000
"""From this many events, the hash links are checked in a second process while this one
replays the history (a long history verifies in about half the time on two cores)."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    message: str
    bad_event: int | None = None
    project: Project | None = field(default=None, compare=False, repr=False)
    """The project as the chain says it is (when the chain could be replayed)."""


class ChainMismatch(Exception):
    """The record does not check out; the message is one line for the author."""

    def __init__(self, message: str, bad_event: int | None = None) -> None:
        super().__init__(message)
        self.bad_event = bad_event


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _compare_snapshot(
    cid: int,
    stored: tuple[str, str, str, int],
    text: ProvenanceText,
    process: dict,
    after: int,
) -> str | None:
    stored_text, runs, stored_process, _ = stored
    if text.text != stored_text:
        at = _first_difference(text.text, stored_text)
        return (
            f"chapter {cid}: the stored text differs from the replayed history at "
            f"character {at} (after event {after})"
        )
    if list(text.runs()) != runs_from_json(runs):
        return (
            f"chapter {cid}: the stored origins differ from the replayed history "
            f"(after event {after})"
        )
    if process != _process_from_json(stored_process):
        return f"chapter {cid}: the stored process figures differ from the replayed history"
    return None


def check_links(path: str) -> tuple[int | None, str]:
    """Check that every stored event follows the one before it, by sequence number and hash.

    Reads the file on its own read-only connection (so it can run in another process);
    returns the first bad event and a sentence, or (None, "").
    """
    uri = Path(path).absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        prev = GENESIS
        expected = 1
        for (
            seq,
            chapter,
            kind,
            pos,
            deleted,
            inserted,
            origin,
            ref,
            runs,
            payload,
            when,
            digest,
        ) in conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY seq"):
            if seq != expected:
                return expected, f"event {expected} is missing from the history"
            digest = bytes(digest)
            if (
                row_hash(
                    prev,
                    seq,
                    chapter,
                    kind,
                    pos,
                    when,
                    deleted,
                    inserted,
                    origin,
                    ref,
                    runs,
                    payload,
                )
                != digest
            ):
                return (
                    seq,
                    f"event {seq} does not match its hash: it was changed after it was written",
                )
            prev = digest
            expected += 1
    finally:
        conn.close()
    return None, ""


def _links_in_parallel(project_file: ProjectFile) -> Future | None:
    """Start ``check_links`` in a second process for a long history (None: check here)."""
    count = project_file.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    if count < PARALLEL_FROM_EVENTS:
        return None
    try:
        # "spawn": a fork of a process running Qt's threads is not safe.
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        future = pool.submit(check_links, str(project_file.path))
        pool.shutdown(wait=False)
    except (OSError, RuntimeError) as exc:  # no second process here: check in this one
        logger.info("Checking the hash links in this process: %s", exc)
        return None
    return future


def verify(project_file: ProjectFile) -> VerifyResult:
    """Replay every event from an empty book and compare with everything the file stores."""
    links = _links_in_parallel(project_file)
    try:
        result = _verify(project_file, check_hashes=links is None)
    except BaseException:
        if links is not None:
            links.cancel()
        raise
    if links is not None:
        try:
            bad, message = links.result()
        except Exception as exc:  # noqa: BLE001 - the second process failed: check here
            logger.warning("The parallel hash check failed (%s); checking here", exc)
            bad, message = check_links(str(project_file.path))
        if bad is not None and (result.ok or result.bad_event is None or bad <= result.bad_event):
            return VerifyResult(False, result.events, message, bad)
    return result


def _verify(project_file: ProjectFile, *, check_hashes: bool) -> VerifyResult:
    snapshots = project_file.snapshots()
    wanted = []
    for event in project_file.events(kind="r"):
        wanted.extend(restore_source(event) or ())
    replayer = ChainReplayer(strict=True, check_hashes=check_hashes, wanted=wanted)
    checked: set[int] = set()
    for event in project_file.events():
        cid = event.chapter
        if event.kind != "m" and cid in snapshots and cid not in checked:
            # Events after a chapter's snapshot are replayed on open; compare at the snapshot.
            snap_seq = snapshots[cid][3]
            chapter = replayer.chapter(cid)
            if event.seq > snap_seq and chapter is not None:
                problem = _compare_snapshot(
                    cid, snapshots[cid], chapter.text, chapter.process, snap_seq
                )
                if problem:
                    return VerifyResult(False, replayer.count, problem, None)
                checked.add(cid)
        replayer.feed(event)
        if replayer.issues:
            issue = replayer.issues[0]
            return VerifyResult(False, replayer.count, issue.message, issue.seq)
    count = replayer.count
    project = replayer.finish()
    everything = {c.id: c for c in [*project.chapters, *project.removed_chapters]}
    for cid in snapshots:
        if cid not in everything:
            return VerifyResult(
                False,
                count,
                f"the file stores a chapter {cid} that the history never created",
            )
        if cid not in checked:
            chapter = everything[cid]
            problem = _compare_snapshot(
                cid, snapshots[cid], chapter.text, chapter.process, project.history.last_seq
            )
            if problem:
                return VerifyResult(False, count, problem, None)
    for cid in everything:
        if cid not in snapshots:
            return VerifyResult(
                False, count, f"chapter {cid} is in the history but missing from the file"
            )
    problem = _compare_tables(project_file, project)
    if problem:
        return VerifyResult(False, count, problem, None, project)
    unknown = unknown_ai_text(project)
    if unknown:
        chapter, start, end, ref = unknown[0]
        number = project.chapters.index(chapter) + 1
        return VerifyResult(
            False,
            count,
            f"chapter {number} ({chapter.title}), characters {start}-{end}: AI text of "
            f"generation {ref}, which the history does not hold (it counts as pending review)",
            None,
            project,
        )
    chapters = len(everything)
    return VerifyResult(
        True, count, f"verified {count} events in {chapters} chapters", None, project
    )


def _compare_tables(project_file: ProjectFile, project: Project) -> str | None:
    """The first table beside the chain that disagrees with it, in a sentence."""
    conn = project_file.conn
    rows = {
        cid: (position, title, removed)
        for cid, position, title, removed in conn.execute(
            "SELECT id, position, title, removed FROM chapters"
        )
    }
    for removed, chapters in ((0, project.chapters), (1, project.removed_chapters)):
        for index, chapter in enumerate(chapters):
            if rows.get(chapter.id) != (index, chapter.title, removed):
                return (
                    f"chapter {chapter.id}: its stored title, place or removal differs from the "
                    "history"
                )
    stored: dict[str, Generation] = {}
    for row in conn.execute(f"SELECT {', '.join(_GENERATION_COLUMNS)} FROM generations"):
        generation = _generation_from_row(row)
        stored[generation.id] = generation
    for gid, generation in project.generations.items():
        cached = stored.pop(gid, None)
        if cached is None:
            return f"generation {gid} is in the history but missing from the generations table"
        if _generation_fields(cached) != _generation_fields(generation):
            return (
                f"generation {gid}: the generations table differs from the history "
                f"({_differing_field(cached, generation)})"
            )
    if stored:
        gid = min(stored)
        return f"the generations table holds {gid}, which the history never recorded"
    reviews = [
        (seq, gid, state, reviewer, when)
        for seq, gid, state, reviewer, when in conn.execute(
            "SELECT seq, generation, state, reviewer, time FROM reviews ORDER BY seq"
        )
    ]
    expected = [(r.seq, r.generation, str(r.state), r.reviewer, r.time) for r in project.review_log]
    if reviews != expected:
        return "the review log differs from the review events of the history"
    imports = {
        iid: (source, kind, bool(own), encoding, digest or "")
        for iid, source, kind, own, encoding, digest in conn.execute(
            "SELECT id, source, kind, own_writing, encoding, sha256 FROM imports"
        )
    }
    chained = {
        r.id: (r.source, r.kind, r.own_writing, r.encoding, r.sha256)
        for r in project.imports.values()
    }
    if imports != chained:
        return "the imports table differs from the import events of the history"
    overrides = {
        key: (json.loads(categories or "[]"), reason, reviewer, when)
        for key, categories, reason, reviewer, when in conn.execute(
            "SELECT text_hash, categories, reason, reviewer, time FROM overrides"
        )
    }
    chained_overrides = {
        o.text_hash: (list(o.categories), o.reason, o.reviewer, o.time)
        for o in project.overrides.values()
    }
    if overrides != chained_overrides:
        return "the screening overrides differ from the override events of the history"
    row = conn.execute("SELECT value FROM meta WHERE key = 'book'").fetchone()
    if row is None or json.loads(row[0]) != project.meta.to_dict():
        return "the book's stored details differ from the history"
    return None


def _generation_fields(generation: Generation) -> dict[str, object]:
    fields = dict(generation.__dict__)
    fields["review_state"] = str(generation.review_state)
    fields["outcome"] = str(generation.outcome)
    # Stored as JSON: compare as JSON would read them back.
    for name in ("parameters", "messages", "timing"):
        fields[name] = json.loads(json.dumps(fields[name]))
    return fields


def _differing_field(a: Generation, b: Generation) -> str:
    fa, fb = _generation_fields(a), _generation_fields(b)
    names = [name for name in fa if fa[name] != fb.get(name)]
    return ", ".join(names) or "?"


def checked_project(project_file: ProjectFile) -> Project:
    """The project as the chain says it is, after a full check; else ``ChainMismatch``."""
    result = verify(project_file)
    if not result.ok or result.project is None:
        raise ChainMismatch(
            f"the record of {project_file.path.name} does not check out: {result.message}; "
            f"run `coauthor verify {project_file.path}` for details",
            result.bad_event,
        )
    return result.project
