"""Coauthor's own Markdown export format, shared by the exporter and the importer.

``coauthor.publish.markdown_export`` writes it; ``coauthor.importers.textfiles`` reads it back
(``split_coauthor_export``) and ``coauthor.publish.verify_export`` checks it. The line escape
(``escape_export_line``) and its exact inverse live here, in one place. So do the names the
DOCX export and the DOCX importer share (``DOCX_*``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = [
    "DOCX_CATEGORY",
    "DOCX_LEGEND_STYLE",
    "DOCX_SCENE_BREAK_STYLE",
    "DOCX_STYLES",
    "EXPORT_MARKER",
    "ParsedChapter",
    "TooManyChapters",
    "escape_export_line",
    "export_heading_title",
    "export_title_author",
    "split_coauthor_export",
    "unescape_export_line",
]


class TooManyChapters(Exception):
    """A split would make more than ``limit`` chapters."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit:,} chapters")
        self.limit = limit


@dataclass
class ParsedChapter:
    title: str
    text: str
    markup: str | None = None
    """``markdown`` or ``plain`` when the source says how the text is read (a Coauthor
    export's ``chapter_markup``); None to let the importer decide."""


# Coauthor's own DOCX export (written by coauthor/publish/docx_export.py): its core
# properties' category, and the paragraph styles of a scene break and of the provenance
# legend (a paragraph of the foreword that is not the foreword's text). Chapter titles are
# ``Heading 1``; the first ``Heading 1`` is the foreword's; paragraphs before it are the title page.
DOCX_CATEGORY = "coauthor-export"
DOCX_SCENE_BREAK_STYLE = "Scene Break"
DOCX_LEGEND_STYLE = "Provenance Legend"
DOCX_STYLES = ("manuscript", "book")

# Coauthor's own Markdown export (written by coauthor/publish/markdown_export.py).
EXPORT_MARKER = "coauthor_export"
_EXPORT_FRONT = re.compile(r"\A---\n(.*?)\n---(?:\n|\Z)", re.DOTALL)
_EXPORT_MARK = re.compile(rf"^{EXPORT_MARKER}:[ \t]*(\d+)[ \t]*$", re.MULTILINE)
_EXPORT_HEADING = re.compile(r"^#(?:[ \t]|$)")
# A line of chapter text the importer would take for structure: a level-1 ATX heading, a setext
# ``===`` underline or a code fence (CommonMark's up to three spaces of indent included).
_EXPORT_SPECIAL = re.compile(r"^ {0,3}(?:#(?:[ \t]|$)|=+[ \t]*$|```|~~~)")
_EXPORT_LINE = re.compile(r"^( {0,3})(\\*)(.*)$", re.DOTALL)


def escape_export_line(line: str) -> str:
    """Escape one line of chapter text for Coauthor's Markdown export.

    The rule: write the line as INDENT + BACKSLASHES + REST (INDENT up to three spaces, REST
    not starting with a backslash). If INDENT + REST is structural (``_EXPORT_SPECIAL``), one
    more backslash is put after INDENT. ``\\# x`` is a Markdown escape, so a renderer shows
    the line as text. ``unescape_export_line`` removes exactly that backslash again.
    """
    match = _EXPORT_LINE.match(line)
    assert match is not None  # the pattern matches any line
    indent, slashes, rest = match.groups()
    if _EXPORT_SPECIAL.match(indent + rest):
        return f"{indent}\\{slashes}{rest}"
    return line


def unescape_export_line(line: str) -> str:
    """The exact inverse of ``escape_export_line``."""
    match = _EXPORT_LINE.match(line)
    assert match is not None
    indent, slashes, rest = match.groups()
    if slashes and _EXPORT_SPECIAL.match(indent + rest):
        return f"{indent}{slashes[1:]}{rest}"
    return line


def _front_string(front: str, key: str) -> str | None:
    """A ``key: "value"`` of the export's front matter (its strings are JSON-compatible)."""
    match = re.search(rf'^{re.escape(key)}:[ \t]*(".*")[ \t]*$', front, re.MULTILINE)
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _front_strings(front: str, key: str) -> list[str]:
    """A block list of strings (``key:`` then ``  - "value"`` lines) of the front matter."""
    lines = front.split("\n")
    values: list[str] = []
    try:
        start = lines.index(f"{key}:")
    except ValueError:
        return values
    for line in lines[start + 1 :]:
        match = re.match(r'^[ \t]+-[ \t]+(".*")[ \t]*$', line)
        if match is None:
            break
        try:
            value = json.loads(match.group(1))
        except ValueError:
            return []
        values.append(str(value))
    return values


def export_heading_title(title: str) -> str:
    """A chapter title as the export writes it after ``# ``: its line breaks become spaces."""
    return re.sub(r"\r\n|\r|\n", " ", title)


def export_title_author(details: dict[str, object]) -> tuple[str, str]:
    """The book title and first author named by a Coauthor export's front matter."""
    front = details.get("front_matter")
    if not isinstance(front, str):
        return "", ""
    authors = _front_strings(front, "authors")
    return _front_string(front, "title") or "", authors[0] if authors else ""


def split_coauthor_export(
    text: str, fallback_title: str, *, limit: int | None = None
) -> tuple[list[ParsedChapter], dict[str, object]] | None:
    """Chapters of a Markdown file written by Coauthor's export, or None if it is not one.

    More than ``limit`` chapters (the foreword aside) raises ``TooManyChapters``."""
    front_match = _EXPORT_FRONT.match(text)
    if front_match is None:
        return None
    front = front_match.group(1)
    marker = _EXPORT_MARK.search(front)
    if marker is None:
        return None
    details: dict[str, object] = {EXPORT_MARKER: int(marker.group(1)), "front_matter": front}
    foreword_title = _front_string(front, "foreword_title")
    titles = _front_strings(front, "chapter_titles")
    markups = _front_strings(front, "chapter_markup")
    lines = text[front_match.end() :].split("\n")
    heads = [i for i, line in enumerate(lines) if _EXPORT_HEADING.match(line)]
    chapters: list[ParsedChapter] = []
    preamble = "\n".join(lines[: heads[0] if heads else len(lines)]).strip("\n")
    if limit is not None and len(heads) + (1 if preamble.strip() else 0) > limit + 1:
        raise TooManyChapters(limit)  # (one heading may be the foreword's)
    if preamble.strip():
        chapters.append(ParsedChapter(fallback_title, preamble))
    for n, start in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(lines)
        body = lines[start + 1 : end]
        if body and body[0] == "":
            body = body[1:]
        if body and body[-1] == "":
            body = body[:-1]
        heading = lines[start]
        title = heading[2:] if heading.startswith("# ") else heading[1:].strip()
        if n == 0 and foreword_title is not None and title == export_heading_title(foreword_title):
            details["foreword"] = "\n".join(body)
            continue
        index = len(chapters) - (1 if preamble.strip() else 0)
        if index < len(titles) and export_heading_title(titles[index]) == title:
            title = titles[index]
        markup = markups[index] if index < len(markups) else None
        chapters.append(
            ParsedChapter(
                title,
                "\n".join(unescape_export_line(x) for x in body),
                markup if markup in ("markdown", "plain") else None,
            )
        )
    return chapters, details
