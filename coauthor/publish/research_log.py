"""Research logs: the book's history as CoAuthor study logs, one ``.jsonl`` per chapter.

``coauthor export BOOK --format coauthor-log --out DIR`` writes, for every chapter of the book
(removed chapters are left out), the log a CoAuthor study session would have (Lee, Liang and
Yang, CHI 2022; ``coauthor.importers.coauthor_log`` reads it), built from the hash-chained
history, not from the snapshot:

- ``system-initialize``: the chapter's starting text in ``currentDoc``, that is the imported
  text its history begins with (empty when it begins otherwise);
- one ``text-insert`` (``textDelta`` with ``retain``/``delete``/``insert`` ops, in UTF-16 code
  units as Quill counts) or ``text-delete`` per text event of the history, in order, with its
  time as ``eventTimestamp`` (ms);
- for each generation: ``suggestion-get`` and ``suggestion-open`` (its output as the one
  suggestion, its decoding settings as ``currentTemperature``, ``currentMaxToken`` ...) where
  the history records it, then ``suggestion-select`` and ``suggestion-close`` just before its
  text is first inserted;
- ``coauthor-review`` for each review decision (an event name of Coauthor's own, which CoAuthor
  readers skip).

Sources. The CoAuthor format knows two: ``eventSource`` ``api`` is the model's text (origin
``ai``), ``user`` everything else. So that nothing is lost, every insertion also carries
``coauthorOrigin`` (``human``, ``ai``, ``pasted``, ``imported``), the model's text its
``coauthorGeneration``, and each event its ``coauthorSeq`` (the history's event number, as
``coauthor log`` lists it). Coauthor's importer reads ``coauthorOrigin`` for ``user`` events
(pasted and imported text come back as such; a plain CoAuthor log's ``user`` text is typed), so
import, export and import give the same texts and the same characters by origin.

Restored text (an undo, a move, a paste of text copied inside the book) keeps its origins in the
book and does not count as newly written. The format has no such event: it is written as one
``text-insert`` per run of one origin, marked ``"coauthorRestored": true``. An importer that
does not know the mark (Coauthor's included) counts it as newly inserted text, so the
"inserted over the history" figures of a re-import grow by exactly the restored characters.

``text=False`` (``--no-text``): the same events with lengths and sources, no text. An insert op
is ``{"insertLength": n}`` (n in UTF-16 code units, like ``retain`` and ``delete``), the
starting text is ``"coauthorDocLength": n``, a suggestion is ``{"index": 0, "length": n}``, and
the book's and chapters' titles are left out (files are ``01.jsonl``...). The header says
``"text": false`` and Coauthor's importer refuses such a log in one sentence.

Names: the author (in the header) and reviewers are left out unless ``keep_names``; reviewers
become ``reviewer-1``, ``reviewer-2`` ... (the same person, the same label). Prompts sent to
the model are never written.

This is data about the writing, not a publication of the book: it is not gated by review, and
the model's text in it may not have been reviewed yet; the folder's README.md says so. Every
file is written to a temporary file and renamed into place (``atomic_write_all``); a folder
that is not empty is refused unless ``force``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from coauthor import __version__
from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.history import EDIT, META, RESTORE, EditEvent, ReplayError, apply_event
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.core.provenance import ProvenanceText
from coauthor.publish.document import ExportWriteError, atomic_write_all
from coauthor.publish.markdown_export import check_folder, slug

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "README_NAME",
    "ResearchLogFailed",
    "ResearchLogResult",
    "check_log_folder",
    "export_research_logs",
    "log_name",
]

FORMAT = "coauthor-log"
FORMAT_VERSION = 1
README_NAME = "README.md"
HEADER = "coauthorExport"
"""The field of ``system-initialize`` that marks a log as Coauthor's export (a dict)."""
LENGTH_OP = "insertLength"
"""The op that stands for an insertion whose text ``--no-text`` left out."""

_PARAMETER_FIELDS = {
    "n": "currentN",
    "max_tokens": "currentMaxToken",
    "temperature": "currentTemperature",
    "top_p": "currentTopP",
    "presence_penalty": "currentPresencePenalty",
    "frequency_penalty": "currentFrequencyPenalty",
}
"""Generation parameters and the CoAuthor fields that carry them (as strings, like the study's
logs); the parameters themselves are also in ``coauthorParameters``."""

EventsOf = Callable[[int], Iterable[EditEvent]]
"""The history's events of one chapter id, in order (``ProjectFile.events(chapter_id)``)."""


class ResearchLogFailed(Exception):
    """The history does not give the chapter's text (a damaged record); one sentence."""


@dataclass
class ResearchLogResult:
    folder: Path
    files: list[Path]
    text: bool
    events: int = 0
    """Events written, over all the logs."""
    unreviewed: int = 0
    """Generations whose text the logs hold and that no one has approved or rejected yet."""
    generations: set[str] = field(default_factory=set)


def log_name(number: int, title: str, width: int, *, text: bool = True) -> str:
    """The file of chapter ``number``: ``01-the-keeper.jsonl`` (``01.jsonl`` without text)."""
    return f"{number:0{width}d}-{slug(title)}.jsonl" if text else f"{number:0{width}d}.jsonl"


def check_log_folder(folder: Path, *, force: bool) -> None:
    """Raise ``ExportWriteError`` (one sentence) when ``folder`` cannot take the logs: it is a
    file, or it is not empty and ``force`` is not given."""
    check_folder(Path(folder), force=force)


class _Names:
    """Reviewer names as written: kept, or one label per distinct person."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self._labels: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if self.keep or not name:
            return name
        return self._labels.setdefault(name, f"reviewer-{len(self._labels) + 1}")


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _parameter_fields(generation: Generation | None) -> dict[str, object]:
    params = generation.parameters if generation is not None else {}
    return {
        name: (str(params[key]) if key in params and params[key] is not None else "")
        for key, name in _PARAMETER_FIELDS.items()
    }


class _ChapterLog:
    """Turns one chapter's history into CoAuthor events."""

    def __init__(
        self,
        project: Project,
        chapter: Chapter,
        number: int,
        *,
        text: bool,
        names: _Names,
        keep_names: bool,
        result: ResearchLogResult,
    ) -> None:
        self.project = project
        self.chapter = chapter
        self.number = number
        self.with_text = text
        self.names = names
        self.keep_names = keep_names
        self.result = result
        self.doc = ProvenanceText()
        self.num = 0
        self.cursor = 0
        self.opened: set[str] = set()
        self.selected: set[str] = set()

    # -- building events ------------------------------------------------------------------

    def _event(
        self,
        name: str,
        source: str,
        time: int,
        delta: object = "",
        generation: Generation | None = None,
        **extra: object,
    ) -> dict[str, object]:
        event: dict[str, object] = {
            "eventName": name,
            "eventSource": source,
            "eventTimestamp": time,
            "textDelta": delta,
            "cursorRange": "",
            "currentDoc": "",
            "currentCursor": self.cursor,
            "currentSuggestions": [],
            "currentSuggestionIndex": 0,
            "currentHoverIndex": "",
            **_parameter_fields(generation),
            "eventNum": self.num,
        }
        if generation is not None:
            event["currentModel"] = generation.model
            event["coauthorGeneration"] = generation.id
            event["coauthorParameters"] = generation.parameters
        event.update(extra)
        self.num += 1
        return event

    def _insert_op(self, inserted: str) -> dict[str, object]:
        if self.with_text:
            return {"insert": inserted}
        return {LENGTH_OP: _units(inserted)}

    def _header(self) -> dict[str, object]:
        meta = self.project.meta
        header: dict[str, object] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "generator": f"Coauthor {__version__}",
            "text": self.with_text,
            "chapter": self.number,
            "markup": self.chapter.markup,
            "reviewed": False,
            "note": "data about the writing, not gated by review: the model's text in it may "
            "not have been reviewed yet",
        }
        if self.with_text:
            header["title"] = self.chapter.title
            header["book"] = meta.title
        if self.keep_names and meta.author:
            header["author"] = meta.author
        return header

    def _initialize(self, time: int) -> dict[str, object]:
        start = self.doc.text
        self.cursor = _units(start)
        extra: dict[str, object] = {HEADER: self._header()}
        if not self.with_text:
            extra["coauthorDocLength"] = self.cursor
        event = self._event("system-initialize", "api", time)
        event.update(extra)
        event["currentDoc"] = start if self.with_text else ""
        return event

    def _suggestion(self, generation: Generation) -> list[dict[str, object]]:
        output = generation.output
        if self.with_text:
            shown: dict[str, object] = {
                "index": 0,
                "original": output,
                "trimmed": output.strip(),
                "probability": None,
            }
        else:
            shown = {"index": 0, "length": _units(output)}
        extra = {
            "coauthorProvider": generation.provider,
            "coauthorOutcome": str(generation.outcome),
        }
        get = self._event(
            "suggestion-get", "user", generation.created, generation=generation, **extra
        )
        opened = self._event(
            "suggestion-open",
            "api",
            generation.finished if generation.finished is not None else generation.created,
            generation=generation,
            **extra,
        )
        opened["currentSuggestions"] = [shown] if output else []
        self.opened.add(generation.id)
        return [get, opened]

    def _select(self, generation: Generation, time: int) -> list[dict[str, object]]:
        events = [] if generation.id in self.opened else self._suggestion(generation)
        for name, source in (("suggestion-select", "user"), ("suggestion-close", "api")):
            event = self._event(name, source, time, generation=generation)
            event["currentHoverIndex"] = 0
            events.append(event)
        self.selected.add(generation.id)
        return events

    # -- the history ----------------------------------------------------------------------

    def events(self, history: Iterable[EditEvent]) -> Iterator[dict[str, object]]:
        started = False
        held: list[EditEvent] = []
        added: int | None = None  # when the chapter was added
        imported: int | None = None  # when its starting text was imported
        for event in history:
            if not started:
                if event.kind == META:
                    held.append(event)
                    added = event.time if added is None else added
                    continue
                if (
                    event.kind == EDIT
                    and event.origin is Origin.IMPORTED
                    and event.inserted
                    and not event.deleted
                ):
                    apply_event(self.doc, event)
                    imported = event.time if imported is None else imported
                    continue
                started = True
                yield self._initialize(
                    next(t for t in (imported, added, event.time) if t is not None)
                )
                for meta in held:
                    yield from self._meta(meta)
            if event.kind == META:
                yield from self._meta(event)
            else:
                yield from self._text(event)
        if not started:
            yield self._initialize(next((t for t in (imported, added) if t is not None), 0))
            for meta in held:
                yield from self._meta(meta)
        if self.doc != self.chapter.text:
            raise self._damaged()

    def _damaged(self) -> ResearchLogFailed:
        return ResearchLogFailed(
            f"the history of chapter {self.number} ({self.chapter.title}) does not replay to "
            "its text, so no log was written; run `coauthor verify` on the book"
        )

    def _meta(self, event: EditEvent) -> Iterator[dict[str, object]]:
        try:
            payload = json.loads(event.payload or "{}")
        except ValueError:
            return
        if not isinstance(payload, dict):
            return
        op = payload.get("op")
        if op == "generation":
            record = payload.get("record")
            gid = str(record.get("id") if isinstance(record, dict) else payload.get("id"))
            generation = self.project.generations.get(gid)
            if generation is not None and gid not in self.opened:
                yield from self._suggestion(generation)
        elif op == "review":
            gid = str(payload.get("generation", ""))
            yield self._event(
                "coauthor-review",
                "user",
                event.time,
                generation=self.project.generations.get(gid),
                coauthorGeneration=gid,
                coauthorReviewState=str(payload.get("state", "")),
                coauthorReviewer=self.names(str(payload.get("reviewer", ""))),
                coauthorShownMs=payload.get("shown_ms"),
                coauthorSeq=event.seq,
            )

    def _text(self, event: EditEvent) -> Iterator[dict[str, object]]:
        doc = self.doc
        end = event.pos + len(event.deleted)
        if not 0 <= event.pos <= end <= len(doc):
            raise self._damaged()
        start = doc.to_utf16(event.pos)
        ops: list[dict[str, object]] = [{"retain": start}] if start else []
        if event.deleted:
            ops.append({"delete": doc.to_utf16(end) - start})
        try:
            apply_event(doc, event, check=True)
        except ReplayError:
            raise self._damaged() from None
        if event.kind == RESTORE and event.inserted:
            yield from self._restore(event, start, ops)
            return
        if not event.inserted or event.origin is None:
            self.cursor = start
            yield self._event(
                "text-delete", "user", event.time, {"ops": ops}, coauthorSeq=event.seq
            )
            return
        ops.append(self._insert_op(event.inserted))
        self.cursor = start + _units(event.inserted)
        generation = None
        if event.origin is Origin.AI:
            generation = self.project.generations.get(event.ref or "")
            if generation is not None:
                self.result.generations.add(generation.id)
                if generation.id not in self.selected:
                    yield from self._select(generation, event.time)
        insert = self._event(
            "text-insert",
            "api" if event.origin is Origin.AI else "user",
            event.time,
            {"ops": ops},
            generation=generation,
            coauthorOrigin=event.origin.value,
            coauthorSeq=event.seq,
        )
        if event.origin is Origin.AI:
            insert["coauthorGeneration"] = event.ref
        yield insert

    def _restore(
        self, event: EditEvent, start: int, ops: list[dict[str, object]]
    ) -> Iterator[dict[str, object]]:
        """Text put back with its runs: one insert per run, each with its origin (the first
        also deletes what the restore replaced)."""
        at = start
        offset = 0
        for length, origin, ref in event.runs or ():
            piece = event.inserted[offset : offset + length]
            offset += length
            if offset == length:
                run_ops = [*ops, self._insert_op(piece)]
            else:
                run_ops = [*([{"retain": at}] if at else []), self._insert_op(piece)]
            generation = self.project.generations.get(ref or "") if origin is Origin.AI else None
            if generation is not None:
                self.result.generations.add(generation.id)
            at += _units(piece)
            self.cursor = at
            insert = self._event(
                "text-insert",
                "api" if origin is Origin.AI else "user",
                event.time,
                {"ops": run_ops},
                generation=generation,
                coauthorOrigin=origin.value,
                coauthorSeq=event.seq,
                coauthorRestored=True,
            )
            if origin is Origin.AI:
                insert["coauthorGeneration"] = ref
            yield insert


# -- the folder -------------------------------------------------------------------------------


def _readme(project: Project, result: ResearchLogResult, names: list[str], keep_names: bool) -> str:
    pending = result.unreviewed
    study = any(r.kind == "coauthor-session" for r in project.imports.values())
    lines = [
        "# Research logs of a book written with Coauthor",
        "",
        "These files record how the book was written, event by event, in the log format of the",
        "CoAuthor study (Lee, Liang and Yang, CHI 2022): one JSON event per line, one file per",
        "chapter. They are data about the writing, not a publication of the book.",
        "",
        "## What the logs contain",
        "",
        "- `system-initialize`: the chapter's starting text (the text imported at its start) in",
        "  `currentDoc`, and in `coauthorExport` what this export is.",
        "- `text-insert` / `text-delete`: every change to the text in the order it was made, with",
        "  its time (`eventTimestamp`, ms since 1970) and a Quill `textDelta` (`retain`, `delete`,",
        "  `insert`; counts in UTF-16 code units). `eventSource` is `api` for the model's text and",
        "  `user` for everything else; `coauthorOrigin` says which: `human` (typed), `ai`,",
        "  `pasted` (from outside the app, author unknown) or `imported` (from a file).",
        "  `coauthorSeq` is the event's number in the book's own history (`coauthor log`).",
        "- Text put back with its origins (an undo, a move) is one `text-insert` per origin,",
        '  marked `"coauthorRestored": true`; it was not newly written.',
        "- `suggestion-get`, `suggestion-open`, `suggestion-select`, `suggestion-close`: each",
        "  request to a model, its output (the one suggestion) and its settings (`currentModel`,",
        "  `currentTemperature`, `currentMaxToken`, ..., all in `coauthorParameters`). The prompts",
        "  sent to the model are not included.",
        "- `coauthor-review`: each review decision (approved or rejected) on a generation.",
        "",
        "## Not reviewed, not screened",
        "",
        "These logs are written from the book's history without the review gate or content",
        "screening that exports of the book go through. They may hold model output that no one",
        "has reviewed, and text that was later deleted.",
    ]
    if pending:
        lines.append(
            f"{pending} generation{' is' if pending == 1 else 's are'} in these logs and not "
            "reviewed yet."
        )
    lines += ["", "## Text and names", ""]
    if result.text:
        lines += [
            "These logs hold the text: every character inserted and the model's suggestions.",
            "Exported with `--no-text`, they would hold the same events with lengths instead of",
            "text.",
        ]
    else:
        lines += [
            "Exported with `--no-text`: the events, their times, positions, lengths and sources",
            'are kept; the text is not. An insertion is `{"insertLength": n}` (UTF-16 code',
            "units), the starting text `coauthorDocLength`, a suggestion its `length`; the book's",
            "and chapters' titles are left out. Coauthor refuses to import such a log.",
        ]
    if keep_names:
        lines.append("Names were kept (`--keep-names`): the author and the reviewers are named.")
    else:
        lines.append(
            "Names are left out: the author is not named and reviewers are `reviewer-1`,"
            " `reviewer-2`, ... (one label per person)."
        )
    lines += [
        "",
        "## Licence and consent",
        "",
        "These logs record how a person wrote. Use them for research only with the author's",
        "informed consent (and the approval of an ethics board where your institution requires",
        "it), and share them no further than that consent allows. The text in them remains the",
        "author's and is not licensed by this export; the model's output may be subject to its",
        "provider's terms.",
    ]
    if study:
        lines.append(
            "Part of this book was imported from the CoAuthor dataset, released under CC BY-SA"
            " 4.0: that licence applies to those sessions."
        )
    lines += ["", "## Files", ""]
    lines += [f"- `{name}`" for name in names]
    return "\n".join(lines) + "\n"


def _is_research_log(path: Path) -> bool:
    """Whether ``path`` is a log an earlier research-log export wrote (its first line says so)."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(1 << 20)
        event = json.loads(first)
    except (OSError, ValueError):
        return False
    return (
        isinstance(event, dict)
        and isinstance(event.get(HEADER), dict)
        and event[HEADER].get("format") == FORMAT
    )


def export_research_logs(
    project: Project,
    events_of: EventsOf,
    folder: Path,
    *,
    text: bool = True,
    keep_names: bool = False,
    force: bool = False,
) -> ResearchLogResult:
    """Write one CoAuthor-format log per chapter of ``project`` and a README.md into ``folder``.

    ``events_of(chapter_id)`` gives the history's events of that chapter in order (the events
    of the history ``project`` was replayed from). Raises ``ExportWriteError`` (the folder cannot
    take the logs; nothing written) or ``ResearchLogFailed``.
    """
    folder = Path(folder)
    check_log_folder(folder, force=force)
    result = ResearchLogResult(folder, [], text)
    names = _Names(keep_names)
    width = max(2, len(str(len(project.chapters))))
    files: list[tuple[Path, Callable[[Path], None]]] = []
    file_names: list[str] = []

    def writer(number: int, chapter: Chapter) -> Callable[[Path], None]:
        def write(temp: Path) -> None:
            log = _ChapterLog(
                project,
                chapter,
                number,
                text=text,
                names=names,
                keep_names=keep_names,
                result=result,
            )
            with temp.open("w", encoding="utf-8", newline="\n") as handle:
                for event in log.events(events_of(chapter.id)):
                    handle.write(json.dumps(event, ensure_ascii=False))
                    handle.write("\n")
                    result.events += 1

        return write

    for number, chapter in enumerate(project.chapters, 1):
        name = log_name(number, chapter.title, width, text=text)
        file_names.append(name)
        files.append((folder / name, writer(number, chapter)))

    def write_readme(temp: Path) -> None:
        result.unreviewed = sum(
            1
            for gid in result.generations
            if gid in project.generations
            and project.generations[gid].review_state is ReviewState.PENDING
        )
        temp.write_text(
            _readme(project, result, file_names, keep_names), encoding="utf-8", newline="\n"
        )

    files.append((folder / README_NAME, write_readme))
    result.files = atomic_write_all(files)
    for stale in folder.glob("*.jsonl"):
        if stale.name not in file_names and _is_research_log(stale):
            try:
                stale.unlink()
            except OSError as exc:
                raise ExportWriteError(
                    f"The logs were written to {folder}, but {stale.name} of an earlier export "
                    f"could not be removed ({exc.strerror or exc})."
                ) from exc
    return result
