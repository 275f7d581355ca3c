"""Reading an export back: the manifest it carries, and its chapters and foreword as its own
markup shows them (the EPUB's XHTML, the HTML's paragraphs, the Markdown's sections as
``coauthor import`` reads them, the DOCX's paragraphs from ``Heading 1`` to ``Heading 1``), for
``verify_export``. A PDF's text is not read back (its
hyphenation, ligatures and page furniture make extraction inexact): only its manifest and the
hash of the file without it (``pdf_manifest_span``)."""

from __future__ import annotations

import html
import json
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

from coauthor.core.exportformat import (
    DOCX_LEGEND_STYLE,
    split_coauthor_export,
    unescape_export_line,
)
from coauthor.publish.manifest import (
    DOCX_ENTRY,
    EPUB_ENTRY,
    HTML_ID,
    MARKDOWN_FIELD,
    page_sha256,
    sha256_bytes,
)
from coauthor.publish.markup import SCENE_BREAK_TEXT

__all__ = [
    "EXPORT_SUFFIXES",
    "PDF_ATTACHMENT",
    "PDF_MARKER",
    "VerifyFailed",
    "pdf_manifest_span",
    "read_export",
]

EXPORT_SUFFIXES = (".epub", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")

_XHTML = "{http://www.w3.org/1999/xhtml}"
_EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
_HTML_LINE = re.compile(rf'^<pre id="{HTML_ID}"[^>]*>(.*)</pre>\n', re.MULTILINE)
_MD_LINE = re.compile(rf'^{MARKDOWN_FIELD}:[ \t]*(".*")[ \t]*\n', re.MULTILINE)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class VerifyFailed(Exception):
    """The export does not match its manifest; the message is the first mismatch, one line."""


@dataclass
class _Read:
    """What an export holds: its manifest, its chapters and foreword as read back, and the
    hashes of its files as they are now."""

    fmt: str
    manifest_json: str
    chapters: list[tuple[str, str]]  # (title as shown, text)
    foreword_title: str
    foreword: list[str]
    files: dict[str, str] = field(default_factory=dict)  # EPUB entries / folder files
    file_sha256: str = ""


def _xhtml_text(element: ET.Element) -> str:
    """The text of an element: ``<br/>`` is a line break, and the newline the writer puts
    after it is layout, not text."""
    out: list[str] = []
    after_break = False

    def add(text: str | None) -> None:
        nonlocal after_break
        if not text:
            return
        if after_break and text.startswith("\n"):
            text = text[1:]
        after_break = False
        out.append(text)

    def walk(node: ET.Element) -> None:
        nonlocal after_break
        add(node.text)
        for child in node:
            if child.tag == f"{_XHTML}br":
                out.append("\n")
                after_break = True
            else:
                walk(child)
            add(child.tail)

    walk(element)
    return "".join(out)


_LEAVES = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"})


def _xhtml_leaves(element: ET.Element) -> list[str]:
    """The texts of a chapter's blocks (``<div class="text">``), in order, as
    ``markup.visible_text`` counts them: paragraphs, headings and code blocks, a scene break
    (``<hr/>``) as ``* * *``, inside quotations and lists too."""
    out: list[str] = []
    for child in element:
        tag = child.tag.removeprefix(_XHTML)
        if tag in _LEAVES:
            out.append(_xhtml_text(child))
        elif tag == "hr":
            out.append(SCENE_BREAK_TEXT)
        else:
            out.extend(_xhtml_leaves(child))
    return out


def _xhtml_section(data: bytes, what: str, epub_type: str) -> tuple[str, list[str]]:
    try:
        root = ET.fromstring(data)  # noqa: S314 - our own XHTML; no DTD, no entities
    except ET.ParseError as exc:
        raise VerifyFailed(f"{what} is not well-formed XHTML ({exc})") from None
    for section in root.iter(f"{_XHTML}section"):
        if section.get(_EPUB_TYPE) == epub_type:
            heading = section.find(f"{_XHTML}h1")
            text = section.find(f"{_XHTML}div[@class='text']")
            paragraphs = (
                _xhtml_leaves(text)
                if text is not None
                else [
                    _xhtml_text(p) for p in section.findall(f"{_XHTML}p") if p.get("class") is None
                ]
            )
            return (_xhtml_text(heading) if heading is not None else ""), paragraphs
    raise VerifyFailed(f"{what} has no {epub_type} section")


def _read_epub(path: Path) -> _Read:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise VerifyFailed(f"it is not a readable EPUB ({exc})") from None
    with archive:
        entries = {info.filename: info for info in archive.infolist()}
        if EPUB_ENTRY not in entries:
            raise VerifyFailed(f"it carries no provenance manifest ({EPUB_ENTRY} is missing)")
        try:
            data = {name: archive.read(info) for name, info in entries.items()}
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise VerifyFailed(f"the EPUB cannot be read ({exc})") from None
    manifest_json = data.pop(EPUB_ENTRY).decode("utf-8", "replace")
    files = {name: sha256_bytes(content) for name, content in data.items()}
    pages = {name.rsplit("/", 1)[-1]: content for name, content in data.items()}
    foreword = pages.get("foreword.xhtml")
    if foreword is None:
        raise VerifyFailed("the EPUB has no foreword page")
    foreword_title, foreword_paragraphs = _xhtml_section(foreword, "the foreword", "foreword")
    chapters = []
    number = 1
    while (page := pages.get(f"chapter-{number:03d}.xhtml")) is not None:
        title, paragraphs = _xhtml_section(page, f"chapter {number}'s page", "chapter")
        chapters.append((title, "\n\n".join(paragraphs)))
        number += 1
    return _Read("epub", manifest_json, chapters, foreword_title, foreword_paragraphs, files)


class _HtmlSections(HTMLParser):
    """The paragraphs (``<p>`` without a class) and heading of the elements with the ids
    ``foreword`` and ``chapter-N``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, tuple[list[str], list[str]]] = {}  # id -> (headings, paras)
        self._section: str | None = None
        self._section_depth = 0
        self._depth = 0
        self._target: list[str] | None = None  # where the current <p> or heading goes
        self._text_depth = 0  # depth of the chapter's <div class="text">, 0 outside it
        self._target_depth = 0
        self._text: list[str] = []
        self._after_break = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br" and self._target is not None:
                self._text.append("\n")
                self._after_break = True
            elif tag == "hr" and self._text_depth and self._target is None and self._section:
                self.sections[self._section][1].append(SCENE_BREAK_TEXT)
            return
        self._depth += 1
        values = dict(attrs)
        ident = values.get("id") or ""
        if self._section is None and (ident == "foreword" or re.fullmatch(r"chapter-\d+", ident)):
            self._section = ident
            self._section_depth = self._depth
            self.sections.setdefault(ident, ([], []))
            return
        if self._section is None or self._target is not None:
            return
        headings, paragraphs = self.sections[self._section]
        if self._text_depth:
            if tag in _LEAVES:
                self._target, self._text, self._after_break = paragraphs, [], False
                self._target_depth = self._depth
            return
        if tag == "div" and values.get("class") == "text":
            self._text_depth = self._depth
            return
        if self._depth == self._section_depth + 1:
            if tag == "p" and "class" not in values:
                self._target, self._text, self._after_break = paragraphs, [], False
                self._target_depth = self._depth
            elif tag in ("h1", "h2", "h3"):
                self._target, self._text, self._after_break = headings, [], False
                self._target_depth = self._depth

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self._target is not None and self._depth == self._target_depth:
            self._target.append("".join(self._text))
            self._target = None
        if self._text_depth and self._depth == self._text_depth:
            self._text_depth = 0
        if self._section is not None and self._depth == self._section_depth:
            self._section = None
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._target is None:
            return
        if self._after_break and data.startswith("\n"):
            data = data[1:]
        self._after_break = False
        self._text.append(data)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerifyFailed(f"{what} is not UTF-8 ({exc.reason} at byte {exc.start})") from None


def _read_html(path: Path) -> _Read:
    page = _decode(path.read_bytes(), "the file")
    match = _HTML_LINE.search(page)
    if match is None:
        raise VerifyFailed("it carries no provenance manifest (no coauthor-manifest element)")
    manifest_json = html.unescape(match.group(1))
    rest = page[: match.start()] + page[match.end() :]
    parser = _HtmlSections()
    parser.feed(rest)
    parser.close()
    headings, foreword = parser.sections.get("foreword", ([], []))
    chapters = []
    number = 1
    while (section := parser.sections.get(f"chapter-{number}")) is not None:
        titles, paragraphs = section
        chapters.append((titles[0] if titles else "", "\n\n".join(paragraphs)))
        number += 1
    fmt = "report" if '"format":"report"' in manifest_json else "html"
    return _Read(
        fmt,
        manifest_json,
        chapters,
        headings[0] if headings else "",
        foreword,
        file_sha256=page_sha256(rest),
    )


def _markdown_manifest(page: str) -> tuple[str, str] | None:
    """(manifest JSON, the page without its line), when the front matter holds one."""
    if not page.startswith("---\n"):
        return None
    end = page.find("\n---\n", 3)
    match = _MD_LINE.search(page, 0, end + 1 if end >= 0 else len(page))
    if match is None:
        return None
    try:
        manifest_json = json.loads(match.group(1))
    except ValueError:
        raise VerifyFailed("the manifest line of the front matter is not a string") from None
    return str(manifest_json), page[: match.start()] + page[match.end() :]


def _markdown_chapters(page: str, what: str) -> tuple[list, dict[str, object]]:
    parsed = split_coauthor_export(page, "")
    if parsed is None:
        raise VerifyFailed(f"{what} is not a Coauthor Markdown export")
    return parsed


def _read_markdown(path: Path) -> _Read:
    page = _decode(path.read_bytes(), "the file")
    found = _markdown_manifest(page)
    if found is None:
        raise VerifyFailed(f"it carries no provenance manifest (no {MARKDOWN_FIELD} line)")
    manifest_json, rest = found
    chapters, details = _markdown_chapters(rest, "the file")
    foreword_text = details.get("foreword")
    foreword = (
        [unescape_export_line(b) for b in str(foreword_text).split("\n\n")]
        if foreword_text is not None
        else []
    )
    read = _Read(
        "markdown",
        manifest_json,
        [(c.title, c.text) for c in chapters],
        "",
        foreword,
        file_sha256=page_sha256(rest),
    )
    try:
        manifest = json.loads(manifest_json)
        folder_files = manifest.get("export", {}).get("files")
    except (ValueError, AttributeError):
        return read  # reported when the manifest is checked
    if isinstance(folder_files, dict):  # a folder export: the chapters are the other files
        read.files = {path.name: read.file_sha256}
        read.chapters = []
        for name in sorted(str(n) for n in folder_files):
            if name == path.name:
                continue
            other = path.parent / name
            if not other.is_file():
                raise VerifyFailed(f"{name}, a file of this export, is missing beside it")
            text = _decode(other.read_bytes(), name)
            read.files[name] = page_sha256(text)
            parsed, _ = _markdown_chapters(text, name)
            read.chapters.extend((c.title, c.text) for c in parsed)
    return read


PDF_ATTACHMENT = "coauthor-manifest.json"
PDF_MARKER = "CoauthorManifest"
"""A key of the attached manifest's stream dictionary (``/CoauthorManifest 1``): how the
writer and ``coauthor verify`` find it."""
_PDF_STREAM = re.compile(
    rb"<<((?:(?!>>).)*?/" + PDF_MARKER.encode() + rb" 1\b(?:(?!>>).)*?)>>\s*stream\r?\n",
    re.DOTALL,
)
_PDF_LENGTH = re.compile(rb"/Length (\d+)\b")


def pdf_manifest_span(data: bytes) -> tuple[int, int]:
    """Where the bytes of the attached manifest are in a PDF written by Coauthor (start, end);
    ``export.file_sha256`` is the SHA-256 of the file without them."""
    found = list(_PDF_STREAM.finditer(data))
    if not found:
        raise VerifyFailed(f"it carries no provenance manifest (no {PDF_ATTACHMENT} attachment)")
    if len(found) > 1:
        raise VerifyFailed(f"it carries {len(found)} provenance manifests; Coauthor writes one")
    length = _PDF_LENGTH.search(found[0].group(1))
    if length is None:
        raise VerifyFailed("its manifest attachment has no length")
    start = found[0].end()
    end = start + int(length.group(1))
    if end > len(data):
        raise VerifyFailed("its manifest attachment runs past the end of the file")
    return start, end


def _read_pdf(path: Path) -> _Read:
    data = path.read_bytes()
    if not data.startswith(b"%PDF-"):
        raise VerifyFailed("it is not a PDF file")
    start, end = pdf_manifest_span(data)
    manifest_json = data[start:end].decode("utf-8", "replace").rstrip(" ")
    rest = data[:start] + data[end:]
    return _Read("pdf", manifest_json, [], "", [], file_sha256=sha256_bytes(rest))


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCX_NOT_FOREWORD = frozenset({DOCX_LEGEND_STYLE.lower(), "caption"})


def _docx_paragraph(paragraph: ET.Element, styles: dict[str, str]) -> tuple[str, str]:
    """(style name in lower case, as Word writes built-in ones, text) of a ``w:p``: its runs' text, a tab as a tab, a line break as a
    newline; deleted text and field codes are not text."""
    style_ref = paragraph.find(f"{_W}pPr/{_W}pStyle")
    style_id = style_ref.get(f"{_W}val", "") if style_ref is not None else ""
    out: list[str] = []
    for run in paragraph.iter(f"{_W}r"):
        for child in run:
            tag = child.tag
            if tag == f"{_W}t":
                out.append(child.text or "")
            elif tag == f"{_W}tab":
                out.append("\t")
            elif tag == f"{_W}cr" or (
                tag == f"{_W}br" and child.get(f"{_W}type") in (None, "textWrapping")
            ):
                out.append("\n")
    return styles.get(style_id, style_id or "normal").lower(), "".join(out)


def _docx_xml(data: bytes, what: str) -> ET.Element:
    try:
        return ET.fromstring(data)  # noqa: S314 - no DTD or entity expansion in ElementTree
    except ET.ParseError as exc:
        raise VerifyFailed(f"{what} is not well-formed XML ({exc})") from None


def _read_docx(path: Path) -> _Read:
    """A DOCX: the title page until the first ``Heading 1``, the foreword (its paragraphs but
    the legend and the table's caption; the table is not text) until the next, then one
    chapter per ``Heading 1``, its text the paragraphs' texts joined by a blank line."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise VerifyFailed(f"it is not a readable DOCX ({exc})") from None
    with archive:
        names = [info.filename for info in archive.infolist()]
        if DOCX_ENTRY not in names:
            raise VerifyFailed(f"it carries no provenance manifest ({DOCX_ENTRY} is missing)")
        if len(set(names)) != len(names):
            raise VerifyFailed("the DOCX has two entries of the same name")
        try:
            data = {name: archive.read(name) for name in names}
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise VerifyFailed(f"the DOCX cannot be read ({exc})") from None
    manifest_json = data.pop(DOCX_ENTRY).decode("utf-8", "replace")
    files = {name: sha256_bytes(content) for name, content in data.items()}
    if "word/document.xml" not in data:
        raise VerifyFailed("the DOCX has no word/document.xml")
    styles: dict[str, str] = {}
    if "word/styles.xml" in data:
        for style in _docx_xml(data["word/styles.xml"], "word/styles.xml").iter(f"{_W}style"):
            name = style.find(f"{_W}name")
            if name is not None:
                styles[style.get(f"{_W}styleId", "")] = name.get(f"{_W}val", "")
    body = _docx_xml(data["word/document.xml"], "word/document.xml").find(f"{_W}body")
    paragraphs = [
        _docx_paragraph(p, styles) for p in (body if body is not None else []) if p.tag == f"{_W}p"
    ]
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    for style, text in paragraphs:
        if style == "heading 1":
            sections.append((text, []))
        elif sections:
            sections[-1][1].append((style, text))
    if not sections:
        raise VerifyFailed("the DOCX has no foreword (no Heading 1)")
    foreword_title, foreword = sections[0]
    chapters = [(title, "\n\n".join(text for _, text in body)) for title, body in sections[1:]]
    kept = [text for style, text in foreword if style not in _DOCX_NOT_FOREWORD]
    return _Read("docx", manifest_json, chapters, foreword_title, kept, files)


def read_export(path: Path) -> _Read:
    """The manifest and the texts of an export, read back from its own markup."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise VerifyFailed("there is no such file")
    if suffix == ".epub":
        return _read_epub(path)
    if suffix in (".md", ".markdown"):
        return _read_markdown(path)
    if suffix in (".html", ".htm"):
        return _read_html(path)
    if suffix == ".pdf":
        return _read_pdf(path)
    if suffix == ".docx":
        return _read_docx(path)
    raise VerifyFailed(f"{suffix or 'a file without a suffix'} is not an export Coauthor reads")
