"""Import Markdown and plain-text files, split into chapters on their headings.

Markdown splits on its highest heading level (``#`` or, failing that, ``##`` and so on; setext
``===`` underlines count as level 1), ignoring fenced code. Plain text splits on lines such as
``Chapter 12`` or ``PART TWO`` that stand alone after a blank line. Text before the first
heading becomes a chapter of its own. In a Project Gutenberg file, the licence header and
footer and the title page before the first chapter are kept in the import record instead.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from coauthor.importers.errors import ImportFailed

__all__ = [
    "ParsedChapter",
    "ParsedText",
    "decode",
    "parse_text_file",
    "split_markdown",
    "split_plain",
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


@dataclass
class ParsedChapter:
    title: str
    text: str


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


def split_markdown(text: str, fallback_title: str) -> list[ParsedChapter]:
    lines = text.split("\n")
    headings: list[tuple[int, int, str, int]] = []  # (line index, level, title, lines used)
    in_fence = False
    for i, line in enumerate(lines):
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        match = _MD_ATX.match(line)
        if match:
            headings.append((i, len(match.group(1)), match.group(2), 1))
        elif (
            i > 0
            and _MD_SETEXT.match(line)
            and lines[i - 1].strip()
            and (i < 2 or not lines[i - 2].strip())
        ):
            headings.append((i - 1, 1, lines[i - 1].strip(), 2))
    if not headings:
        return [ParsedChapter(fallback_title, text.strip("\n"))] if text.strip() else []
    top = min(level for _, level, _, _ in headings)
    cuts = [(i, title, used) for i, level, title, used in headings if level == top]
    return _cut(lines, cuts, fallback_title)


def split_plain(text: str, fallback_title: str) -> list[ParsedChapter]:
    lines = text.split("\n")
    cuts = [
        (i, line.strip(), 1)
        for i, line in enumerate(lines)
        if _PLAIN_HEADING.match(line) and (i == 0 or not lines[i - 1].strip())
    ]
    if not cuts:
        return [ParsedChapter(fallback_title, text.strip("\n"))] if text.strip() else []
    return _cut(lines, cuts, fallback_title)


def _cut(lines: list[str], cuts: list[tuple[int, str, int]], fallback: str) -> list[ParsedChapter]:
    chapters: list[ParsedChapter] = []
    preamble = "\n".join(lines[: cuts[0][0]]).strip("\n")
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


def parse_text_file(path: Path, encoding: str | None = None) -> ParsedText:
    """Read and split one Markdown or plain-text file (nothing is written)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror or exc}") from exc
    text, used = decode(data, path, encoding)
    digest = hashlib.sha256(data).hexdigest()
    is_markdown = path.suffix.lower() in (".md", ".markdown", ".mdown", ".mkd")
    details: dict[str, object] = {}
    title = path.stem
    if is_markdown:
        chapters = split_markdown(text, title)
    else:
        gutenberg = _gutenberg(text)
        if gutenberg is not None:
            text, details = gutenberg
        chapters = split_plain(text, title)
        if gutenberg is not None and len(chapters) > 1 and chapters[0].title == title:
            details["title_page"] = chapters.pop(0).text
    if not chapters:  # an empty file still arrives, as one empty chapter
        chapters = [ParsedChapter(title, "")]
    return ParsedText(path, "markdown" if is_markdown else "text", used, digest, chapters, details)
