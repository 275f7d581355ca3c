"""Verify a project file: the hash chain, a strict replay of the whole history, and the caches.

The chain is the only truth. ``verify`` replays every event from an empty book with
``ChainReplayer`` in strict mode (hashes, sequence, restores against their sources, approvals
against what was in the book and shown), then checks every table beside the chain against the
project the replay produced: chapter snapshots (text, runs, process figures), chapter titles
and order, generations, the review log, imports, overrides, the book's details and the
writing statistics' summary. AI text whose generation the chain does not hold is named too,
and pasted text naming a declaration of own writing it does not hold. The first disagreement
is reported.

``checked_project`` is what exports use: the project as the chain says it is, or
``ChainMismatch`` with one line naming the first bad event.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coauthor.core.book import BookMeta
from coauthor.core.chain import (
    ChainReplayer,
    Piece,
    check_restore,
    restore_source,
    unknown_ai_text,
)
from coauthor.core.daily import Tally
from coauthor.core.declarations import undeclared_pasted_text
from coauthor.core.generation import Generation
from coauthor.core.history import GENESIS, EditEvent, row_hash, runs_from_json, runs_to_json
from coauthor.core.project import Project
from coauthor.core.provenance import Fragment, ProvenanceText
from coauthor.store.activity import activity_batches, stored_tally
from coauthor.store.errors import ProjectFileError
from coauthor.store.projectfile import ProjectFile
from coauthor.store.rows import (
    _EVENT_COLUMNS,
    _GENERATION_COLUMNS,
    _generation_from_row,
    _generation_row,
    _process_from_json,
    _process_to_json,
)

__all__ = ["ChainMismatch", "VerifyResult", "checked_project", "verify"]

logger = logging.getLogger(__name__)

PARALLEL_FROM_EVENTS = 50_000
"""From this many events, half the work runs in a second process (about half the time on two
cores; below it, starting an interpreter costs more than it saves)."""


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
    try:
        stored_runs = runs_from_json(runs)
    except (ValueError, KeyError, TypeError):
        return f"chapter {cid}: the stored origins cannot be read (they are not the expected JSON)"
    if list(text.runs()) != stored_runs:
        return (
            f"chapter {cid}: the stored origins differ from the replayed history "
            f"(after event {after})"
        )
    try:
        stored_counts = _process_from_json(stored_process)
    except (ValueError, KeyError, TypeError):
        return (
            f"chapter {cid}: the stored process figures cannot be read "
            "(they are not the expected JSON)"
        )
    if process != stored_counts:
        return f"chapter {cid}: the stored process figures differ from the replayed history"
    return None


@dataclass
class _Part:
    """What the replay of some chapters found (picklable: a second process sends it back)."""

    issues: list[tuple[int | None, str]]
    checked: set[int]  # chapters whose snapshot was compared during the replay
    chapters: dict[int, tuple[str, str, str]]  # text, runs JSON, process JSON
    captured: dict[Piece, tuple[str, str]]  # the text and runs JSON each source piece named
    restores: list[tuple[int, tuple[Piece, ...], str, str]]  # restores left to settle
    approvals: list[tuple[int, str, bool]]  # (event, generation, its text in these chapters)
    inserted: dict[str, int]  # first insertion of each generation's text in these chapters


def _chapter_named(message: str) -> int:
    """The chapter a snapshot's problem names (``_compare_snapshot``'s sentences), else 0."""
    head, _, _ = message.partition(":")
    number = head.removeprefix("chapter ")
    return int(number) if head != number and number.isdigit() else 0


def _fragment(text: str, runs: str) -> Fragment:
    return Fragment(text, tuple(runs_from_json(runs)))


def _replay_part(
    conn: sqlite3.Connection,
    snapshots: dict[int, tuple[str, str, str, int]],
    own: frozenset[int] | None,
    *,
    fact_links: bool = True,
) -> tuple[_Part, ChainReplayer]:
    """Replay the fact events and the text events of the chapters ``own`` (None: all)
    strictly, and check the hash link of each event replayed (of fact events only with
    ``fact_links``: the other part checks them)."""
    wanted = []
    for (payload,) in conn.execute("SELECT payload FROM events WHERE kind = 'r'"):
        event = EditEvent(0, 0, "r", 0, "", "", None, None, None, payload, 0)
        wanted.extend(restore_source(event) or ())
    replayer = ChainReplayer(strict=True, check_hashes=False, wanted=wanted, own=own)
    issues: list[tuple[int | None, str]] = []
    checked: set[int] = set()
    where = ""
    if own is not None:
        ids = ",".join(str(int(c)) for c in sorted(own)) or "NULL"
        where = f" WHERE e.kind = 'm' OR e.chapter IN ({ids})"
    columns = ", ".join(f"e.{name.strip()}" for name in _EVENT_COLUMNS.split(","))
    # Each event with the hash of the one before it (the primary key finds it): each link is
    # checked by the part that reads the event, so the two parts check the chain between them.
    rows = conn.execute(
        f"SELECT {columns}, p.hash FROM events e LEFT JOIN events p ON p.seq = e.seq - 1"
        f"{where} ORDER BY e.seq"
    )
    feed = replayer.feed_row
    # A chapter's snapshot is compared once the replay passes the event it reflects.
    snapshot_seq = {cid: stored[3] for cid, stored in snapshots.items()}
    last = 1 << 62
    for row in rows:
        seq, cid, kind = row[0], row[1], row[2]
        if fact_links or kind != "m":
            prev = row[12]
            if prev is None and seq != 1:
                issues.append((seq - 1, f"event {seq - 1} is missing from the history"))
                break
            if row_hash(
                GENESIS if prev is None else prev, seq, cid, kind, row[3], row[10], *row[4:10]
            ) != row[11]:  # fmt: skip
                issues.append(
                    (
                        seq,
                        f"event {seq} does not match its hash: it was changed after it was written",
                    )
                )
                break
        if seq > snapshot_seq.get(cid, last) and kind != "m" and cid not in checked:
            # Events after a chapter's snapshot are replayed on open; compare at the snapshot.
            chapter = replayer.chapter(cid)
            if chapter is not None:
                snap_seq = snapshots[cid][3]
                problem = _compare_snapshot(
                    cid, snapshots[cid], chapter.text, chapter.process, snap_seq
                )
                if problem:
                    issues.append((None, problem))
                    break
                checked.add(cid)
        try:
            feed(row)
        except (ValueError, KeyError, TypeError) as exc:
            issues.append((seq, f"event {seq} cannot be read ({exc})"))
            break
        if replayer.issues:
            break
    issues.extend((issue.seq, issue.message) for issue in replayer.issues)
    project = replayer.finish()
    mine = [*project.chapters, *project.removed_chapters]
    if own is not None:
        mine = [c for c in mine if c.id in own]
    if not issues:
        # Snapshots of these chapters the replay never passed: compared with the end.
        for chapter in mine:
            if chapter.id in snapshots and chapter.id not in checked:
                problem = _compare_snapshot(
                    chapter.id,
                    snapshots[chapter.id],
                    chapter.text,
                    chapter.process,
                    project.history.last_seq,
                )
                if problem:
                    issues.append((None, problem))
                    break
                checked.add(chapter.id)
    part = _Part(
        issues=issues,
        checked=checked,
        chapters={
            c.id: (c.text.text, runs_to_json(c.text.runs()), _process_to_json(c.process))
            for c in mine
        }
        if own is not None
        else {},
        captured={
            piece: (fragment.text, runs_to_json(fragment.runs))
            for piece, fragment in replayer.captured.items()
        },
        restores=[
            (seq, pieces, claimed.text, runs_to_json(claimed.runs))
            for seq, pieces, claimed in replayer.deferred_restores
        ],
        approvals=replayer.approvals,
        inserted={
            g.id: g.inserted_at for g in project.generations.values() if g.inserted_at is not None
        },
    )
    return part, replayer


def _part_in_process(path: str, own: frozenset[int] | None) -> _Part:
    """``_replay_part`` on a read-only connection of its own (what the second process runs)."""
    conn = _read_only(path)
    try:
        snapshots = {
            cid: (text or "", runs or "[]", process or "{}", snap or 0)
            for cid, text, runs, process, snap in conn.execute(
                "SELECT id, text, runs, process, snapshot_seq FROM chapters"
            )
        }
        return _replay_part(conn, snapshots, own, fact_links=False)[0]
    finally:
        conn.close()


def _read_only(path: str) -> sqlite3.Connection:
    return sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)


class _SecondProcess:
    """The other half of a long verify, in a new interpreter (``python -m coauthor.store.verify``
    reads its task on standard input and writes its ``_Part`` on standard output, then the
    comparison of the stored writing statistics, which it makes while this process settles
    the replay)."""

    def __init__(self, path: str, own: frozenset[int]) -> None:
        self.task = (path, own)
        self.process: subprocess.Popen[bytes] | None = None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "coauthor.store.verify"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            assert self.process.stdin is not None
            self.process.stdin.write(pickle.dumps(self.task))
            self.process.stdin.close()
        except (OSError, ValueError) as exc:  # no second process here: its part runs here
            logger.info("Verifying in one process: %s", exc)
            self.process = None

    def _answer(self) -> tuple[bool, object]:
        """The child's next answer (False if it has none: it failed, and is stopped)."""
        process = self.process
        if process is None or process.stdout is None:
            return False, None
        try:
            return True, pickle.load(process.stdout)  # noqa: S301 - our own child's answer
        except (pickle.UnpicklingError, EOFError, OSError, TypeError, ValueError) as exc:
            logger.warning("The second verify process failed (%s)", exc)
            self.cancel()
            self.process = None
            return False, None

    def result(self) -> _Part:
        """Its part (replayed here if the child failed)."""
        ok, values = self._answer()
        if ok and isinstance(values, tuple):
            try:
                return _Part(*values)
            except TypeError as exc:
                logger.warning("The second verify process answered wrongly (%s)", exc)
                self.cancel()
                self.process = None
        return _part_in_process(*self.task)

    def statistics(self, conn: sqlite3.Connection) -> str | None:
        """The child's comparison of the stored writing statistics (made here, on ``conn``,
        if the child failed)."""
        ok, answer = self._answer()
        if ok and (answer is None or isinstance(answer, str)):
            self.cancel()
            return answer
        return _compare_statistics(conn)

    def cancel(self) -> None:
        process = self.process
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _split(conn: sqlite3.Connection) -> tuple[frozenset[int], frozenset[int]]:
    """The chapters in two sets, for this process and the other, so that both finish at about
    the same time."""
    counts = conn.execute(
        "SELECT chapter, count(*) FROM events WHERE kind != 'm' GROUP BY chapter"
    ).fetchall()
    parts: tuple[set[int], set[int]] = (set(), set())
    # Each starts with the work it does besides replaying its chapters, in replayed events
    # (measured on bench/verify.py's project): this process replays every fact event and
    # settles the result; the other, when the file keeps the statistics' summary, computes
    # it again from every event, at about a sixth of the cost of replaying them.
    total = sum(n for _, n in counts)
    loads = [total // 14, total // 6 if stored_tally(conn) is not None else 0]
    for cid, n in sorted(counts, key=lambda item: -item[1]):
        side = 0 if loads[0] <= loads[1] else 1
        parts[side].add(cid)
        loads[side] += n
    return frozenset(parts[0]), frozenset(parts[1])


def verify(project_file: ProjectFile) -> VerifyResult:
    """Replay every event from an empty book and compare with everything the file stores.

    A long history (``PARALLEL_FROM_EVENTS``) is split in two: this process replays about half
    the chapters (and every fact event), a second process the other half, each checking the
    hash link of each event it reads; what needs every chapter (restores naming another
    chapter, approvals) is settled when both are done.
    """
    conn = project_file.conn
    try:
        count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        snapshots = project_file.snapshots()
    except sqlite3.DatabaseError as exc:
        raise ProjectFileError(
            f"{project_file.path} is damaged and cannot be read ({exc})."
        ) from exc
    other: _SecondProcess | None = None
    own: frozenset[int] | None = None
    if count >= PARALLEL_FROM_EVENTS:
        own, theirs = _split(conn)
        other = _SecondProcess(str(project_file.data_path), theirs)
    try:
        try:
            mine, replayer = _replay_part(conn, snapshots, own)
            parts = [mine] if other is None else [mine, other.result()]
            statistics = (
                functools.partial(_compare_statistics, conn)
                if other is None
                else functools.partial(other.statistics, conn)
            )
            return _settle(project_file, snapshots, replayer, parts, count, statistics)
        except sqlite3.DatabaseError as exc:
            raise ProjectFileError(
                f"{project_file.path} is damaged and cannot be read ({exc})."
            ) from exc
    finally:
        if other is not None:
            other.cancel()


def _settle(
    project_file: ProjectFile,
    snapshots: dict[int, tuple[str, str, str, int]],
    replayer: ChainReplayer,
    parts: list[_Part],
    count: int,
    statistics: Callable[[], str | None],
) -> VerifyResult:
    """Join the parts of a replay, settle what needed every chapter, compare the caches
    (``statistics`` compares the stored writing statistics)."""
    issues = [issue for part in parts for issue in part.issues]
    captured = {
        piece: _fragment(text, runs)
        for part in parts
        for piece, (text, runs) in part.captured.items()
    }
    for part in parts:
        for seq, pieces, text, runs in part.restores:
            if not check_restore(pieces, _fragment(text, runs), captured, seq):
                issues.append(
                    (
                        seq,
                        (
                            f"event {seq} puts back text whose text or origins differ from "
                            "its source in the record"
                        ),
                    )
                )
    found: dict[int, tuple[str, bool]] = {}
    for part in parts:
        for seq, gid, here in part.approvals:
            found[seq] = (gid, found.get(seq, (gid, False))[1] or here)
    for seq, (gid, here) in found.items():
        if not here:
            issues.append(
                (
                    seq,
                    f"event {seq} approves generation {gid} while none of its text is in the book",
                )
            )
    if issues:
        # The earliest event at fault; at one event, a broken link before what it does; of
        # snapshots found wrong at the same point, the lowest chapter number's (the verdict
        # does not depend on how the chapters were split between the processes).
        issues.sort(
            key=lambda issue: (
                issue[0] is None,
                issue[0] or 0,
                "its hash" not in issue[1] and "missing from" not in issue[1],
                _chapter_named(issue[1]),
            )
        )
        seq, message = issues[0]
        return VerifyResult(False, count, message, seq)
    project = replayer.project
    everything = {c.id: c for c in [*project.chapters, *project.removed_chapters]}
    checked: set[int] = set()
    for part in parts:
        checked |= part.checked
        for cid, (text, runs, process) in part.chapters.items():
            chapter = everything.get(cid)
            if chapter is not None:
                chapter.text = ProvenanceText.from_runs(text, runs_from_json(runs))
                chapter.process = _process_from_json(process)
        for gid, first in part.inserted.items():
            generation = project.generations.get(gid)
            if generation is not None and (
                generation.inserted_at is None or first < generation.inserted_at
            ):
                generation.inserted_at = first
    for cid, stored in snapshots.items():
        if cid not in everything:
            return VerifyResult(
                False,
                count,
                f"the file stores a chapter {cid} that the history never created",
            )
        if cid not in checked:
            chapter = everything[cid]
            problem = _compare_snapshot(
                cid, stored, chapter.text, chapter.process, project.history.last_seq
            )
            if problem:
                return VerifyResult(False, count, problem, None)
    for cid in everything:
        if cid not in snapshots:
            return VerifyResult(
                False, count, f"chapter {cid} is in the history but missing from the file"
            )
    problem = _compare_tables(project_file, project) or statistics()
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
    undeclared = undeclared_pasted_text(project.chapters, project.declarations)
    if undeclared:
        chapter, start, end, ref = undeclared[0]
        number = project.chapters.index(chapter) + 1
        return VerifyResult(
            False,
            count,
            f"chapter {number} ({chapter.title}), characters {start}-{end}: pasted text "
            f"claimed as the author's own writing under declaration {ref}, which the history "
            "does not hold",
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
    stored: dict[str, tuple] = {
        row[0]: row
        for row in conn.execute(f"SELECT {', '.join(_GENERATION_COLUMNS)} FROM generations")
    }
    for gid, generation in project.generations.items():
        row = stored.pop(gid, None)
        if row is None:
            return f"generation {gid} is in the history but missing from the generations table"
        if row == _generation_row(generation):
            continue  # exactly as this version writes it (most rows: no JSON to read back)
        cached = _generation_from_row(row)
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
    # Read as details (a detail added in a later version is empty in older files).
    if row is None or BookMeta.from_dict(json.loads(row[0])) != project.meta:
        return "the book's stored details differ from the history"
    return None


def _compare_statistics(conn: sqlite3.Connection) -> str | None:
    """The writing statistics' summary the file keeps, if any, against one computed from the
    history up to the same event (a sentence if they differ)."""
    stored = stored_tally(conn)
    if stored is None:
        return None  # none, or one no reader would use: nothing shown comes from it
    computed = Tally()
    for batch in activity_batches(conn, 0, stored.seq):
        computed.feed(batch)
    if computed.same_figures(stored):
        return None
    return (
        f"the writing statistics stored in the file (up to event {stored.seq}) differ from "
        "the history"
    )


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


def _second_process_main() -> int:
    """``python -m coauthor.store.verify``: run one part of a verify for a parent process."""
    path, own = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - from our own parent
    part = _part_in_process(path, own)
    # Plain values (the class would be __main__._Part here): the parent rebuilds the _Part.
    values = tuple(getattr(part, f.name) for f in dataclasses.fields(part))
    sys.stdout.buffer.write(pickle.dumps(values))
    sys.stdout.buffer.flush()
    conn = _read_only(path)
    try:
        sys.stdout.buffer.write(pickle.dumps(_compare_statistics(conn)))
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(_second_process_main())
