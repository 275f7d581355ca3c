"""Bring outside text into a project: Markdown, plain text, Word (.docx), OpenDocument (.odt)
and CoAuthor session logs.

Every source is read and checked completely before the project is touched, so a bad file
changes nothing (a CoAuthor log is streamed, and its edits kept compactly, so memory follows the
session rather than the file); then ``apply`` adds its chapters to the project in memory, and the caller
writes them in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from coauthor.core.book import Chapter, ImportRecord
from coauthor.core.generation import Generation, Outcome
from coauthor.core.origin import Origin
from coauthor.core.project import Project, now_ms
from coauthor.importers.coauthor_log import (
    COAUTHOR_MODEL,
    COAUTHOR_PROVIDER,
    ParsedSession,
    parse_session_log,
)
from coauthor.importers.errors import ImportFailed
from coauthor.importers.textfiles import ParsedText, parse_text_file

__all__ = [
    "ImportFailed",
    "ImportSummary",
    "apply",
    "default_markup",
    "is_session_log",
    "parse_source",
]

Parsed = ParsedText | ParsedSession

SESSION_PROMPT_CHARS = 8192
"""The most text before a CoAuthor suggestion kept as its generation's prompt: GPT-3's context
of 2,048 tokens at four characters a token."""


@dataclass(frozen=True)
class ImportSummary:
    source: Path
    chapters: list[Chapter]
    generations: int


def is_session_log(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".jsonl", ".jsonl.gz"))


def parse_source(
    path: Path, encoding: str | None = None, *, keep_line_breaks: bool = False
) -> Parsed:
    """Read one source completely, in memory; raise ``ImportFailed`` with a clear sentence."""
    if not path.exists():
        raise ImportFailed(f"{path} does not exist")
    if path.is_dir():
        raise ImportFailed(f"{path} is a folder; name the files to import")
    if is_session_log(path):
        return parse_session_log(path)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        from coauthor.importers.docx import parse_docx  # mammoth loads only for a .docx

        return parse_docx(path)
    if suffix == ".odt":
        from coauthor.importers.odt import parse_odt

        return parse_odt(path)
    return parse_text_file(path, encoding, keep_line_breaks=keep_line_breaks)


def default_markup(parsed: Parsed) -> str:
    """How the imported chapters are read unless the author says otherwise: a Markdown file's
    as Markdown, and a Word or OpenDocument file's (converted to Markdown); a plain-text
    file's and a CoAuthor session's as plain text, so that no character of them is taken for
    markup (``Chapter.markup``)."""
    markdown = isinstance(parsed, ParsedText) and parsed.kind in ("markdown", "docx", "odt")
    return "markdown" if markdown else "plain"


def apply(
    project: Project, parsed: Parsed, *, own_writing: bool = False, markup: str | None = None
) -> ImportSummary:
    """Add the parsed source's chapters to the project (in memory). ``markup`` (``markdown``
    or ``plain``) overrides ``default_markup`` for a text file; a session is plain unless
    the header of a log Coauthor exported gives its chapter's markup."""
    if isinstance(parsed, ParsedSession):
        return _apply_session(project, parsed)
    markup = markup or default_markup(parsed)
    record = project.add_import(
        ImportRecord(
            project.new_import_id(),
            str(parsed.source),
            parsed.kind,
            own_writing,
            parsed.encoding,
            parsed.sha256,
            now_ms(),
            {**parsed.details, "chapters": len(parsed.chapters)},
        )
    )
    chapters = []
    for piece in parsed.chapters:
        chapter = project.add_chapter(piece.title, markup=piece.markup or markup)
        project.insert(chapter, 0, piece.text, Origin.IMPORTED, record.id)
        chapters.append(chapter)
    return ImportSummary(parsed.source, chapters, 0)


def _prompt(chapter: Chapter, pos: int) -> str:
    """What the study's model was given: the text before the suggestion, at most as much as
    its context held, so that a long session's generations do not each hold the whole text."""
    return chapter.text.text_in(max(0, pos - SESSION_PROMPT_CHARS), pos)


def _apply_session(project: Project, session: ParsedSession) -> ImportSummary:
    record = project.add_import(
        ImportRecord(
            project.new_import_id(),
            str(session.source),
            "coauthor-session",
            False,
            "utf-8",
            session.sha256,
            session.start_time,
            {
                "session_id": session.session_id,
                "events": session.event_count,
                "note": "the starting text is the CoAuthor study's prompt, not the writer's",
            },
        )
    )
    chapter = project.add_chapter(session.title or session.session_id, markup=session.markup)
    history = project.history
    coalesce, history.coalesce = history.coalesce, False
    try:
        project.insert(
            chapter, 0, session.prompt, Origin.IMPORTED, record.id, time=session.start_time
        )
        generation_for_event: dict[int | str, str] = {}
        # The chain records a generation whole when it is added, so its output is gathered
        # first: a suggestion may arrive as several insertions of one event. A Coauthor export
        # names each insertion's generation (its text may come back later, restored): one
        # generation record each, whose output is the text of its first event.
        outputs: dict[int | str, str] = {}
        first_event: dict[int | str, int] = {}
        for edit in session.edits:
            if edit.source == "api" and edit.text:
                key = edit.generation or edit.event_num
                if first_event.setdefault(key, edit.event_num) == edit.event_num:
                    outputs[key] = outputs.get(key, "") + edit.text
        origins = {"user": Origin.HUMAN, "pasted": Origin.PASTED, "imported": Origin.IMPORTED}
        for edit in session.edits:
            if edit.delete:
                project.delete(chapter, edit.pos, edit.delete, time=edit.time)
            if not edit.text:
                continue
            if edit.source == "api":
                key = edit.generation or edit.event_num
                gen_id = generation_for_event.get(key)
                if gen_id is None:
                    gen_id = project.new_generation_id()
                    generation_for_event[key] = gen_id
                    project.add_generation(
                        Generation(
                            gen_id,
                            COAUTHOR_PROVIDER,
                            edit.model or COAUTHOR_MODEL,
                            dict(edit.parameters),
                            [{"role": "user", "content": _prompt(chapter, edit.pos)}],
                            outputs[key],
                            Outcome.COMPLETE,
                            edit.time,
                            edit.time,
                            chapter.id,
                        )
                    )
                project.insert(chapter, edit.pos, edit.text, Origin.AI, gen_id, time=edit.time)
            else:
                origin = origins[edit.source]
                ref = record.id if origin is Origin.IMPORTED else None
                project.insert(chapter, edit.pos, edit.text, origin, ref, time=edit.time)
    finally:
        history.coalesce = coalesce
    if chapter.text.text != session.final_text:
        raise ImportFailed(f"{session.source}: replaying the log did not reach its final text")
    return ImportSummary(session.source, [chapter], len(generation_for_event))
