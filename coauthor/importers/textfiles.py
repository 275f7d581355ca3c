"""Import Markdown and plain-text files, split into chapters on their headings.

Markdown splits on its highest heading level (``#`` or, failing that, ``##`` and so on; setext
``===`` underlines count as level 1), ignoring fenced code. Plain text splits on lines such as
``Chapter 12`` or ``PART TWO`` that stand alone after a blank line. Text before the first
heading becomes a chapter of its own. A file that would make more than ``MAX_CHAPTERS``
(10,000) chapters is refused in one sentence, as soon as that is known. In a Project Gutenberg
file, the licence header and footer and the title page before the first chapter are kept in the
import record instead.

A Markdown file written by Coauthor's own export (``coauthor.publish.markdown_export``) starts
with YAML front matter holding ``coauthor_export: 1``. Importing it gives back the exported
chapters exactly: the front matter and the foreword section are kept in the import record
instead of becoming chapters, each chapter's text is taken as written between its ``# Title``
line and the next one (one framing blank line removed at each end, nothing trimmed), titles
come from the front matter's ``chapter_titles`` when the heading still matches, and the export's
line escape is reversed (see ``escape_export_line``).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from coauthor.core.exportformat import (
    EXPORT_MARKER,
    ParsedChapter,
    TooManyChapters,
    escape_export_line,
    export_heading_title,
    export_title_author,
    split_coauthor_export,
    unescape_export_line,
)
from coauthor.importers.errors import ImportFailed

__all__ = [
    "EXPORT_MARKER",
    "MAX_CHAPTERS",
    "ParsedChapter",
    "ParsedText",
    "TooManyChapters",
    "decode",
    "escape_export_line",
    "export_heading_title",
    "export_title_author",
    "parse_text_file",
    "split_coauthor_export",
    "split_markdown",
    "split_plain",
    "unescape_export_line",
]

_MD_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_MD_FENCE = re.compile(r"^[ ]{0,3}(```|~~~)")
_MD_SETEXT = re.compile(r"^=+[ \t]*$")
_PLAIN_HEADING = re.compile(
    r"^[ \t]*(?:chapter|part|book|volume|act|prologue|epilogue|interlude|afterword|preface)"
    r"\b[\w .:,'\u2019\-]{0,60}$",
    re.IGNORECASE,
)
_GUTENBERG_START = re.compile(r"^\*\*\* ?START OF (?:THIS|THE) PROJECT GUTENBERG.*$", re.MULTILINE)
_GUTENBERG_END = re.compile(r"^\*\*\* ?END OF (?:THIS|THE) PROJECT GUTENBERG.*$", re.MULTILINE)
_GUTENBERG_FIELD = re.compile(r"^(Title|Author|Language):[ \t]*(.+?)[ \t]*$", re.MULTILINE)
# Older files close the book with this line just before the END marker; it is not the book's.
_GUTENBERG_END_NOTE = re.compile(
    r"^End of (?:the |this )?Project Gutenberg\b.*\s*\Z", re.IGNORECASE | re.MULTILINE
)


MAX_CHAPTERS = 10_000
"""The most chapters one imported file may make (a book has tens, a long one hundreds); a file
that would make more is refused, in one sentence, before anything is built."""

_MD_STARTS = frozenset("#= `~")  # the first character of any line split_markdown looks at


@dataclass
class ParsedText:
    source: Path
    kind: str
    encoding: str
    sha256: str
    chapters: list[ParsedChapter]
    details: dict[str, object] = field(default_factory=dict)


def decode(data: bytes, source: Path, encoding: str | None) -> tuple[str, str]:
    """Decode file bytes; a bad byte gets an error naming its offset."""
    name = encoding or "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        raise ImportFailed(f"{name!r} is not an encoding Python knows") from None
    if name.replace("_", "-").lower() in ("utf-8", "utf8") and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        hint = "" if encoding else "; give its encoding with --encoding"
        raise ImportFailed(
            f"{source} is not valid {name}: byte 0x{byte:02x} at offset {exc.start}{hint}"
        ) from None
    # Newlines are normalised so positions mean the same on every platform.
    return text.replace("\r\n", "\n").replace("\r", "\n"), name


def split_markdown(
    text: str, fallback_title: str, *, limit: int | None = None
) -> list[ParsedChapter]:
    """Chapters at the highest heading level; more than ``limit`` raises ``TooManyChapters``."""
    lines = text.split("\n")
    headings: list[tuple[int, int, str, int]] = []  # (line index, level, title, lines used)
    in_fence = False
    top_level_count = 0  # level-1 headings: always chapters, so enough of them is too many
    for i, line in enumerate(lines):
        if not line or line[0] not in _MD_STARTS:
            continue  # neither a heading, a setext underline nor a fence: most lines
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        match = _MD_ATX.match(line)
        if match:
            level = len(match.group(1))
            headings.append((i, level, match.group(2), 1))
        elif (
            i > 0
            and _MD_SETEXT.match(line)
            and lines[i - 1].strip()
            and (i < 2 or not lines[i - 2].strip())
        ):
            level = 1
            headings.append((i - 1, 1, lines[i - 1].strip(), 2))
        else:
            continue
        if level == 1:
            top_level_count += 1
            if limit is not None and top_level_count > limit:
                raise TooManyChapters(limit)
    if not headings:
        return [ParsedChapter(fallback_title, text.strip("\n"))] if text.strip() else []
    top = min(level for _, level, _, _ in headings)
    cuts = [(i, title, used) for i, level, title, used in headings if level == top]
    return _cut(lines, cuts, fallback_title, limit)


def split_plain(text: str, fallback_title: str, *, limit: int | None = None) -> list[ParsedChapter]:
    lines = text.split("\n")
    cuts = [
        (i, line.strip(), 1)
        for i, line in enumerate(lines)
        if _PLAIN_HEADING.match(line) and (i == 0 or not lines[i - 1].strip())
    ]
    if not cuts:
        return [ParsedChapter(fallback_title, text.strip("\n"))] if text.strip() else []
    return _cut(lines, cuts, fallback_title, limit)


def _cut(
    lines: list[str], cuts: list[tuple[int, str, int]], fallback: str, limit: int | None
) -> list[ParsedChapter]:
    chapters: list[ParsedChapter] = []
    preamble = "\n".join(lines[: cuts[0][0]]).strip("\n")
    if limit is not None and len(cuts) + (1 if preamble.strip() else 0) > limit:
        raise TooManyChapters(limit)
    if preamble.strip():
        chapters.append(ParsedChapter(fallback, preamble))
    for n, (start, title, used) in enumerate(cuts):
        end = cuts[n + 1][0] if n + 1 < len(cuts) else len(lines)
        body = "\n".join(lines[start + used : end]).strip("\n")
        chapters.append(ParsedChapter(title or f"Chapter {len(chapters) + 1}", body))
    return chapters


def _gutenberg(text: str) -> tuple[str, dict[str, object]] | None:
    start = _GUTENBERG_START.search(text)
    end = _GUTENBERG_END.search(text)
    if not start or not end or end.start() < start.end():
        return None
    header = text[: start.end()]
    body_end = end.start()
    note = _GUTENBERG_END_NOTE.search(text, start.end(), end.start())
    if note is not None:
        body_end = note.start()
    fields = {key.lower(): value for key, value in _GUTENBERG_FIELD.findall(header)}
    details: dict[str, object] = {
        "gutenberg_header": header,
        "gutenberg_footer": text[body_end:],
        "gutenberg_fields": fields,
    }
    return text[start.end() : body_end], details


_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n\s*)")


def unwrap_hard_wrapped(text: str) -> str | None:
    """Join the lines of each paragraph if the text is hard-wrapped, else None.

    A text is taken as hard-wrapped (a Project Gutenberg file, an e-mail) when most of its
    lines are 55-80 characters long and none is over 100: those line breaks are the typist's,
    not the author's. Paragraphs (blank-line separated) and their separators are kept exactly.
    """
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 20 or max(len(line) for line in lines) > 100:
        return None
    if sum(1 for line in lines if 55 <= len(line) <= 80) < 0.5 * len(lines):
        return None
    pieces = _PARAGRAPH_BREAK.split(text)
    for i in range(0, len(pieces), 2):  # even pieces are paragraphs, odd ones separators
        pieces[i] = " ".join(line.strip() for line in pieces[i].split("\n"))
    return "".join(pieces)


def parse_text_file(
    path: Path, encoding: str | None = None, *, keep_line_breaks: bool = False
) -> ParsedText:
    """Read and split one Markdown or plain-text file (nothing is written)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror or exc}") from exc
    text, used = decode(data, path, encoding)
    digest = hashlib.sha256(data).hexdigest()
    is_markdown = path.suffix.lower() in (".md", ".markdown", ".mdown", ".mkd")
    try:
        return _split(path, text, used, digest, is_markdown, keep_line_breaks)
    except TooManyChapters as exc:
        raise ImportFailed(
            f"{path} would make more than {exc.limit:,} chapters (one per top-level heading), "
            "more than one import may make; split it into several files or use fewer headings"
        ) from None


def _split(
    path: Path, text: str, used: str, digest: str, is_markdown: bool, keep_line_breaks: bool
) -> ParsedText:
    details: dict[str, object] = {}
    title = path.stem
    limit = MAX_CHAPTERS
    exported = split_coauthor_export(text, title, limit=limit)  # whatever its file name says
    if exported is not None:
        chapters, details = exported  # an export of only the foreword has no chapters
        is_markdown = True
    elif is_markdown:
        chapters = split_markdown(text, title, limit=limit)
    else:
        gutenberg = _gutenberg(text)
        if gutenberg is not None:
            text, details = gutenberg
        unwrapped = None if keep_line_breaks else unwrap_hard_wrapped(text)
        if unwrapped is not None:
            text = unwrapped
            details["joined_wrapped_lines"] = True
        chapters = split_plain(text, title, limit=limit)
        if gutenberg is not None and len(chapters) > 1 and chapters[0].title == title:
            details["title_page"] = chapters.pop(0).text
    if not chapters and exported is None:  # an empty file still arrives, as one empty chapter
        chapters = [ParsedChapter(title, "")]
    return ParsedText(path, "markdown" if is_markdown else "text", used, digest, chapters, details)
