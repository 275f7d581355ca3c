r"""Markdown export: the book as one ``.md`` file, or a folder with one file per chapter.

One file
--------

YAML front matter, then the foreword, then every chapter::

    ---
    coauthor_export: 1
    generated_by: "Coauthor"
    title: "The Tide Clock"
    subtitle: "A sample book"
    authors:
      - "Ada Marlowe"
    publisher: "..."            (the company, when there is one)
    language: "en"
    description: "..."         (when there is one)
    ai_disclosure: "..."        (BookDocument.disclosure)
    ai_category: "Some sections AI-generated, with minimal editing"
    ai_share: 0.3475            (the model's share of the characters, 0 to 1)
    ai_percent: 35
    models:
      - name: "SmolLM2-135M-Instruct (Q4_1)"
        provider: "embedded"
    foreword_title: "How this book was written"
    chapter_titles:
      - "The Keeper"
    coauthor_manifest: "{...}"  (the provenance manifest, see publish/manifest.py)
    ---

    # How this book was written

    (the foreword's paragraphs, then the roles table as a Markdown table when the book asks
    for it)

    # The Keeper

    (the chapter's exact text)

Every string of the front matter is double-quoted with ``\\``, ``\"``, ``\n``, ``\t``,
``\r`` and ``\uXXXX`` escapes for control characters and line separators; such a scalar is
valid YAML and valid JSON alike, so titles with ``& < " '`` and line breaks survive any YAML
reader. ``coauthor_export`` marks the file as Coauthor's own export; ``chapter_titles`` keeps the
exact titles (a heading cannot hold a line break, so ``# `` lines show it as a space);
``chapter_markup``, written when a chapter is not Markdown, says for each chapter whether its
text is ``markdown`` or ``plain`` (text not written as Markdown, whose ``*`` and ``_`` are
characters, not markup), so that importing the export reads each chapter as it was read.

Exact text and the line escape
------------------------------

Each chapter is written as ``# <title>``, a blank line, its text, a newline, and a blank line
before the next heading. A line of the text that a Markdown reader (and Coauthor's importer)
would take for structure, that is a level-1 ``#`` heading, a setext ``===`` underline or a
code fence (```` ``` ```` or ``~~~``), each after up to three spaces, gets one backslash after
its indentation (``# Not a title`` becomes ``\# Not a title``, which Markdown also shows as
text). A line that already starts with backslashes before such a line gets one more, so the
escape is always reversible: ``coauthor import book.md`` recognises the export by its front
matter, keeps the front matter and the foreword in the import record, and removes exactly
that backslash (``coauthor.core.exportformat.escape_export_line`` and
``unescape_export_line``). Nothing else is changed: trailing spaces, blank lines at the start
or end of a chapter and every other character come back as they were, except the characters a
Markdown file cannot carry: NUL, the other C0 controls but tab, line feed and carriage return,
U+FFFE, U+FFFF and lone surrogates (which UTF-8 cannot hold) are written as U+FFFD, one for
one, so the export never holds a NUL and nothing is dropped silently
(``coauthor.publish.document.clean_markdown_text``).

Annotations (``annotate=True``, off by default)
-----------------------------------------------

Text that the author did not type is wrapped, one line piece at a time, in inline HTML::

    <span data-origin="ai" data-generation="g3">text the model drafted</span>
    <span data-origin="pasted">pasted text</span>
    <span data-origin="imported" data-import="i1">imported text</span>

Typed text is left bare. An annotated export is for reading the provenance in a Markdown
viewer; it is not the exact text (the spans stay in it when it is imported again), and its
front matter says ``annotated: true``.

Folder mode (``folder=True``)
-----------------------------

``target`` is a folder holding ``00-foreword.md`` (the front matter above and the foreword)
and ``01-<slug>.md``, ``02-<slug>.md``... (numbers widen past 99 chapters), each with a short
front matter of its own (the marker, the book, the chapter number and its exact title) so it
can be imported on its own: ``coauthor import folder/*.md --into book.coauthor`` gives back
the chapters in order. Markdown files left in the folder by an earlier Coauthor export that
this export did not write again are removed; no other file is touched. Every file is written
to a temporary file first and all are renamed into place once all are written, so a failed
export (disk full...) leaves the folder as it was. ``coauthor export --folder`` refuses a
folder that is not empty unless ``--force`` is given (``check_folder``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from coauthor.core.exportformat import (
    EXPORT_MARKER,
    escape_export_line,
    export_heading_title,
)
from coauthor.core.origin import Origin
from coauthor.publish.document import (
    BookDocument,
    ChapterDoc,
    ExportWriteError,
    Progress,
    annotated_text,
    atomic_write,
    atomic_write_all,
    clean_markdown_text,
    is_export_part,
    remove_stale_parts,
    roles_table,
    write_error_sentence,
)
from coauthor.publish.manifest import build_manifest, embed_markdown, page_sha256
from coauthor.publish.roles import ROLE_CAPTION, ROLE_HEADERS

__all__ = [
    "EXPORT_VERSION",
    "ROLE_HEADERS",
    "export_markdown",
    "annotated_text",
    "check_folder",
    "markdown_chapter",
    "render_markdown",
    "roles_table",
    "slug",
    "yaml_string",
]

EXPORT_VERSION = 1

_YAML_ESCAPES: dict[int, str] = {
    **{code: f"\\u{code:04x}" for code in range(0x20)},
    **{code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)},
    **{code: f"\\u{code:04x}" for code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF)},
    **dict.fromkeys(range(0xD800, 0xE000), "\\ufffd"),
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\t"): "\\t",
    ord("\r"): "\\r",
}


def yaml_string(value: str) -> str:
    """A double-quoted YAML scalar for any string (also a valid JSON string)."""
    return '"' + value.translate(_YAML_ESCAPES) + '"'


def _clean(text: str) -> str:
    """Text a Markdown file can carry: NUL, other controls and lone surrogates as U+FFFD."""
    return clean_markdown_text(text)


def slug(title: str, fallback: str = "chapter") -> str:
    """A file-name-safe ASCII slug of a title (at most 48 characters)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    result = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:48].rstrip("-")
    return result or fallback


def _table_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _markdown_table(document: BookDocument) -> str:
    headers, rows, total = roles_table(document)
    lines = [
        "| " + " | ".join(_table_cell(h) for h in headers) + " |",
        "|" + "|".join([":---", *("---:" for _ in headers[1:])]) + "|",
    ]
    lines.extend("| " + " | ".join(_table_cell(c) for c in row) + " |" for row in [*rows, total])
    return "\n".join(lines) + f"\n\nTable: {ROLE_CAPTION}."


def _front_matter(fields: Iterable[tuple[str, object]]) -> str:
    lines = ["---"]
    for key, value in fields:
        if isinstance(value, bool):
            lines.append(f"{key}: {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key}: {value}")
        elif isinstance(value, str):
            lines.append(f"{key}: {yaml_string(value)}")
        elif isinstance(value, list) and not value:
            lines.append(f"{key}: []")
        elif isinstance(value, list):
            lines.append(f"{key}:")
            for item in value:
                if isinstance(item, dict):
                    first = True
                    for name, text in item.items():
                        lead = "  - " if first else "    "
                        lines.append(f"{lead}{name}: {yaml_string(str(text))}")
                        first = False
                else:
                    lines.append(f"  - {yaml_string(str(item))}")
        else:  # pragma: no cover - every field above is one of these
            raise TypeError(f"cannot write {key!r} in the front matter")
    lines.append("---")
    return "\n".join(lines) + "\n"


def _book_fields(
    document: BookDocument, annotate: bool, chapters: bool
) -> list[tuple[str, object]]:
    meta = document.meta
    roles = document.roles
    fields: list[tuple[str, object]] = [
        (EXPORT_MARKER, EXPORT_VERSION),
        ("generated_by", "Coauthor"),
        ("title", meta.title),
    ]
    if meta.subtitle:
        fields.append(("subtitle", meta.subtitle))
    fields.append(("authors", [meta.author] if meta.author else []))
    if meta.company:
        fields.append(("publisher", meta.company))
    fields.append(("language", meta.language or "en"))
    if meta.description:
        fields.append(("description", meta.description))
    if meta.rights:
        fields.append(("rights", meta.rights))
    fields += [
        ("ai_disclosure", document.disclosure),
        ("ai_category", roles.category.label),
        ("ai_share", round(roles.share(Origin.AI), 4)),
        ("ai_percent", roles.percent(Origin.AI)),
        ("models", [{"name": name, "provider": provider} for name, provider in roles.models]),
        ("foreword_title", document.foreword_title),
    ]
    if annotate:
        fields.append(("annotated", True))
    if chapters:
        fields.append(("chapter_titles", [c.title for c in document.chapters]))
        if any(c.markup != "markdown" for c in document.chapters):
            fields.append(("chapter_markup", [c.markup for c in document.chapters]))
    return fields


def _escaped(text: str) -> str:
    return "\n".join(escape_export_line(line) for line in text.split("\n"))


def markdown_chapter(chapter: ChapterDoc, *, annotate: bool = False) -> str:
    """``# <title>``, a blank line, the escaped text and a newline."""
    body = annotated_text(chapter) if annotate else chapter.text
    return f"# {export_heading_title(chapter.title)}\n\n{_escaped(body)}\n"


def _foreword_section(document: BookDocument) -> str:
    blocks = [_escaped(paragraph) for paragraph in document.foreword]
    if document.with_chapter_table and document.chapters:
        blocks.append(_markdown_table(document))
    body = "\n\n".join(blocks)
    return f"# {export_heading_title(document.foreword_title)}\n\n{body}\n"


def render_markdown(
    document: BookDocument, *, annotate: bool = False, progress: Progress | None = None
) -> str:
    """The one-file export as a string."""
    total = len(document.chapters) + 1
    sections = [_foreword_section(document)]
    if progress:
        progress(1, total, "Foreword")
    for chapter in document.chapters:
        sections.append(markdown_chapter(chapter, annotate=annotate))
        if progress:
            progress(chapter.number + 1, total, chapter.title)
    front = _clean(_front_matter(_book_fields(document, annotate, chapters=True)))
    return embed_markdown(
        front,
        _clean("\n" + "\n".join(sections)),
        lambda digest: build_manifest(
            document, "markdown", {"file_sha256": digest}, annotate=annotate
        ),
    )


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)


def _write(target: Path, text: str) -> Path:
    return atomic_write(target, lambda temp: _write_text(temp, text))


def _is_coauthor_export(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            head = stream.read(4096)
    except OSError:
        return False
    if not head.startswith("---\n"):
        return False
    front = head.split("\n---", 1)[0]
    return re.search(rf"^{EXPORT_MARKER}:", front, re.MULTILINE) is not None


def check_folder(folder: Path, *, force: bool) -> None:
    """Raise ``ExportWriteError`` if ``folder`` cannot take a folder export: it is a file, or
    it holds anything (but what a killed export left) and ``force`` is not given."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ExportWriteError(
            f"{folder} is a file; a folder export needs a folder; nothing was changed."
        )
    if force or not folder.is_dir():
        return
    try:
        names = [entry.name for entry in folder.iterdir()]
    except OSError as exc:
        raise ExportWriteError(write_error_sentence(folder, exc)) from exc
    if any(not is_export_part(name) for name in names):
        raise ExportWriteError(
            f"{folder} is not empty; add --force to export into it (files of an earlier "
            "Coauthor export there are replaced or removed, other files are left alone); "
            "nothing was changed."
        )


def _export_folder(
    document: BookDocument, folder: Path, annotate: bool, progress: Progress | None
) -> Path:
    check_folder(folder, force=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportWriteError(write_error_sentence(folder, exc)) from exc
    remove_stale_parts(folder, suffix=".md")
    width = max(2, len(str(len(document.chapters))))
    total = len(document.chapters) + 1
    files: dict[str, str] = {}
    front = _clean(_front_matter(_book_fields(document, annotate, chapters=False)))
    foreword_name = f"{0:0{width}d}-foreword.md"
    files[foreword_name] = ""  # written last, with the manifest; first in the folder's order
    for chapter in document.chapters:
        fields: list[tuple[str, object]] = [
            (EXPORT_MARKER, EXPORT_VERSION),
            ("generated_by", "Coauthor"),
            ("book", document.meta.title),
            ("chapter", chapter.number),
            ("chapter_titles", [chapter.title]),
        ]
        if chapter.markup != "markdown":
            fields.append(("chapter_markup", [chapter.markup]))
        if annotate:
            fields.append(("annotated", True))
        name = f"{chapter.number:0{width}d}-{slug(chapter.title)}.md"
        files[name] = _clean(
            _front_matter(fields) + "\n" + markdown_chapter(chapter, annotate=annotate)
        )
    hashes = {name: page_sha256(text) for name, text in files.items() if name != foreword_name}

    def manifest(digest: str) -> dict[str, object]:
        export = {"folder": True, "files": {foreword_name: digest, **hashes}}
        return build_manifest(document, "markdown", export, annotate=annotate)

    files[foreword_name] = embed_markdown(
        front, _clean("\n" + _foreword_section(document)), manifest
    )

    def writer(name: str, text: str, done: int):
        def write(temp: Path) -> None:
            _write_text(temp, text)
            if progress:
                progress(done, total, name)

        return write

    atomic_write_all(
        [
            (folder / name, writer(name, text, done))
            for done, (name, text) in enumerate(files.items(), 1)
        ]
    )
    for stale in folder.glob("*.md"):
        if stale.name not in files and _is_coauthor_export(stale):
            try:
                stale.unlink()
            except OSError as exc:
                raise ExportWriteError(
                    f"The export was written to {folder}, but {stale.name} of an earlier export "
                    f"could not be removed ({exc.strerror or exc})."
                ) from exc
    return folder


def export_markdown(
    document: BookDocument,
    target: Path,
    *,
    folder: bool = False,
    annotate: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write the book as Markdown (atomically, file by file); return the file or the folder."""
    target = Path(target)
    if folder:
        return _export_folder(document, target, annotate, progress)
    return _write(target, render_markdown(document, annotate=annotate, progress=progress))
