"""HTML export: the book as one self-contained HTML5 file.

``export_html`` renders a ``BookDocument`` (already through the gate, see ``prepare_export``)
through the Jinja2 template ``book.html.j2`` (a file of that name in a user templates folder
overrides it, as for the foreword):

- a title page (title, subtitle, author, company) with the disclosure of
  ``BookDocument.disclosure``; then first of all the foreword ("How this book was written")
  with its table of roles per chapter; a table of contents with the foreword first; then each
  chapter as a ``<section>`` with an ``<h2>``. Its text is rendered from its blocks
  (``markup.chapter_blocks``: Markdown as CommonMark, plain text literally) by ``blocks_html``,
  inside ``<div class="text">``;
- the disclosure, the category, the model's share and the models are also in ``<meta>``
  elements (``ai-disclosure``, ``ai-category``, ``ai-share``, ``ai-models``);
- every piece of book text is escaped (Jinja2 autoescaping, or ``markupsafe.escape`` for the
  paragraphs built here) after characters HTML and XML forbid become U+FFFD, so markup,
  scripts, event attributes and ``javascript:`` links in the text come out as inert, visible
  text. A Content-Security-Policy ``<meta>`` forbids scripts and every network load as a second
  line of defence; the page loads nothing (its CSS is inline);
- with ``provenance_styling`` the text not typed by the author is marked (model text with a
  tinted background and a solid underline, pasted text dashed, imported text dotted), each
  marked stretch has a ``title`` naming the generation or import, and a legend explains it;
- the file is written atomically (``atomic_write``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from coauthor.core.generation import Generation
from coauthor.core.models import model_identity
from coauthor.core.origin import Origin
from coauthor.core.resources import resources_dir
from coauthor.publish.document import (
    BookDocument,
    Progress,
    atomic_write,
    book_language,
    clean_xml_text,
    roles_table,
)
from coauthor.publish.labels import AI_DRAFTED
from coauthor.publish.manifest import build_manifest, embed_html
from coauthor.publish.markup import Block, Piece, block_text, trimmed

__all__ = [
    "BOOK_TEMPLATE",
    "CONTENT_SECURITY_POLICY",
    "environment",
    "export_html",
    "html_text",
    "iso_time",
    "render_html",
]

BOOK_TEMPLATE = "book.html.j2"
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
LEGEND = (
    "In this edition, text first drafted by a language model has a tinted background and a "
    "solid underline, pasted text a dashed underline and imported text a dotted underline; "
    "each marked passage's tooltip names the generation or the import it came from."
)

_NOT_HTML = re.compile("[\x7f-\x9f\ufdd0-\ufdef]")

# (origin, ref) of a span -> (CSS class, tooltip), or None to leave the text unmarked
Marking = Callable[[Origin, str | None], tuple[str, str] | None]


def html_text(value: str) -> str:
    """Text HTML can carry: characters XML or HTML forbid become U+FFFD (not escaped yet)."""
    return _NOT_HTML.sub("\ufffd", clean_xml_text(value))


def _finalize(value: object) -> object:
    """Every ``{{ }}`` of the templates: strings are cleaned before autoescaping."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return html_text(value)
    return value


def environment(template_dirs: list[Path] | None = None) -> jinja2.Environment:
    """Templates from the user's folders first, then ``resources/templates``; autoescaped."""
    loaders: list[jinja2.BaseLoader] = [
        jinja2.FileSystemLoader(str(d)) for d in template_dirs or [] if Path(d).is_dir()
    ]
    loaders.append(jinja2.FileSystemLoader(str(resources_dir() / "templates")))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def iso_time(ms: int | None) -> str:
    """Milliseconds since the epoch as UTC ISO 8601 (``2026-05-01T09:30:00Z``); "" for none."""
    if not ms:
        return ""
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):  # a corrupt time: show the number
        return str(ms)


_LINK_SCHEMES = ("http://", "https://", "mailto:")
_INLINE_ORDER = ("a", "strong", "em", "code")


def _piece_tags(piece: Piece) -> tuple[tuple[str, str], ...]:
    """The elements a piece sits in, outermost first, as (tag, opening tag)."""
    tags: list[tuple[str, str]] = []
    link = piece.link or ""
    if link.lower().startswith(_LINK_SCHEMES):
        tags.append(("a", f'<a href="{escape(html_text(link))}">'))
    if piece.strong:
        tags.append(("strong", "<strong>"))
    if piece.em:
        tags.append(("em", "<em>"))
    if piece.code:
        tags.append(("code", "<code>"))
    return tuple(tags)


def pieces_html(pieces: Sequence[Piece], marking: Marking | None = None) -> str:
    """The inside of a paragraph or heading: escaped text in properly nested ``<a>``,
    ``<strong>``, ``<em>`` and ``<code>``, the marked origins as innermost ``<span>``s, a hard
    line break as ``<br/>`` and a newline (the writer's layout, which readers skip); white
    space around the whole is removed."""
    out: list[str] = []
    open_tags: tuple[tuple[str, str], ...] = ()
    span: tuple[str, str] | None = None  # the open marking span
    for piece in trimmed(pieces):
        tags = () if piece.br else _piece_tags(piece)
        mark = marking(piece.origin, piece.ref) if marking and not piece.br else None
        keep = 0
        while keep < min(len(tags), len(open_tags)) and tags[keep] == open_tags[keep]:
            keep += 1
        if span is not None and (mark != span or keep < len(open_tags) or len(tags) > keep):
            out.append("</span>")
            span = None
        for tag, _ in reversed(open_tags[keep:]):
            out.append(f"</{tag}>")
        for _, opening in tags[keep:]:
            out.append(opening)
        open_tags = tags
        if piece.br:
            out.append("<br/>\n")
            continue
        if mark is not None and span is None:
            css, title = mark
            out.append(f'<span class="{escape(css)}" title="{escape(html_text(title))}">')
            span = mark
        out.append(str(escape(html_text(piece.text))))
    if span is not None:
        out.append("</span>")
    for tag, _ in reversed(open_tags):
        out.append(f"</{tag}>")
    return "".join(out)


def blocks_html(
    blocks: Sequence[Block], marking: Marking | None = None, heading_offset: int = 1
) -> Markup:
    """A chapter's blocks as XHTML-compatible HTML: ``<p>``, headings (a chapter's ``#`` is
    ``<h{1 + heading_offset}>``, at most ``<h6>``), ``<hr class="scene-break"/>``,
    ``<blockquote>``, ``<ul>``/``<ol>`` whose ``<li>`` hold paragraphs (``class="tight"`` on a
    list without blank lines between its items), and ``<pre><code>``. Every character is
    escaped; an empty paragraph or heading is left out, as ``visible_text`` leaves it out."""
    out: list[str] = []
    for block in blocks:
        kind = block.kind
        if kind == "paragraph":
            inner = pieces_html(block.pieces, marking)
            if inner:
                out.append(f"<p>{inner}</p>\n")
        elif kind == "heading":
            inner = pieces_html(block.pieces, marking)
            if inner:
                level = min(6, max(1, block.level) + heading_offset)
                out.append(f"<h{level}>{inner}</h{level}>\n")
        elif kind == "break":
            out.append('<hr class="scene-break"/>\n')
        elif kind == "quote":
            out.append(
                f"<blockquote>\n{blocks_html(block.children, marking, heading_offset)}"
                "</blockquote>\n"
            )
        elif kind == "list":
            tag = "ol" if block.ordered else "ul"
            attrs = f' start="{block.start}"' if block.ordered and block.start != 1 else ""
            attrs += ' class="tight"' if block.tight else ""
            items = "".join(
                f"<li>{blocks_html(item.children, marking, heading_offset)}</li>\n"
                for item in block.children
            )
            out.append(f"<{tag}{attrs}>\n{items}</{tag}>\n")
        elif kind == "code":
            text = block_text(block)
            if text:
                out.append(f"<pre><code>{escape(html_text(text))}</code></pre>\n")
    return Markup("".join(out))  # noqa: S704 - every piece of text is escaped above


def origin_marking(generations: dict[str, Generation], sources: dict[str, str]) -> Marking:
    """Classes ``o-ai``, ``o-pasted``, ``o-imported`` with a tooltip naming the source."""

    def mark(origin: Origin, ref: str | None) -> tuple[str, str] | None:
        if origin is Origin.AI:
            generation = generations.get(ref or "")
            if generation is None:
                return "o-ai", AI_DRAFTED
            name = model_identity(generation.model)
            return "o-ai", f"Drafted by {name} (generation {generation.id})"
        if origin is Origin.PASTED and ref is not None:
            return "o-pasted", f"Pasted; the author declared it their own writing ({ref})"
        if origin is Origin.PASTED:
            return "o-pasted", "Pasted from outside Coauthor"
        if origin is Origin.IMPORTED:
            source = sources.get(ref or "")
            return "o-imported", f"Imported from {source} (import {ref})" if source else "Imported"
        return None

    return mark


def book_context(document: BookDocument, provenance_styling: bool) -> dict[str, object]:
    """What ``book.html.j2`` is rendered with."""
    meta = document.meta
    marking = (
        origin_marking(
            {g.id: g for g in document.generations}, {i.id: i.source for i in document.imports}
        )
        if provenance_styling
        else None
    )
    headers, rows, total = roles_table(document)
    chapters = [
        {
            "number": chapter.number,
            "id": f"chapter-{chapter.number}",
            "title": " ".join(chapter.title.split()) or f"Chapter {chapter.number}",
            "body": blocks_html(chapter.blocks, marking, heading_offset=2),
        }
        for chapter in document.chapters
    ]
    return {
        "meta": meta,
        "lang": book_language(meta.language),
        "title": meta.title or "Untitled",
        "csp": CONTENT_SECURITY_POLICY,
        "disclosure": document.disclosure,
        "category": document.roles.category.label,
        "ai_share": f"{document.roles.share(Origin.AI):.4f}",
        "ai_percent": document.roles.percent(Origin.AI),
        "models": ", ".join(f"{name} ({provider})" for name, provider in document.roles.models),
        "foreword_title": document.foreword_title,
        "foreword": document.foreword,
        "table": (
            {"headers": headers, "rows": rows, "total": total}
            if document.with_chapter_table and document.chapters
            else None
        ),
        "styling": provenance_styling,
        "legend": LEGEND,
        "chapters": chapters,
    }


def render_html(
    document: BookDocument,
    *,
    provenance_styling: bool = False,
    template_dirs: list[Path] | None = None,
) -> str:
    template = environment(template_dirs).get_template(BOOK_TEMPLATE)
    page = template.render(**book_context(document, provenance_styling))
    return embed_html(
        page, lambda digest: build_manifest(document, "html", {"file_sha256": digest})
    )


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 with ``\\n`` newlines; lone surrogates (which UTF-8 cannot hold) as U+FFFD."""
    with path.open("w", encoding="utf-8", errors="replace", newline="\n") as stream:
        stream.write(text)


def export_html(
    document: BookDocument,
    target: Path,
    *,
    provenance_styling: bool = False,
    progress: Progress | None = None,
    template_dirs: list[Path] | None = None,
) -> Path:
    """Write the book as one self-contained HTML file (atomically) and return its path."""
    return write_page(
        target,
        lambda: render_html(
            document, provenance_styling=provenance_styling, template_dirs=template_dirs
        ),
        "the book",
        progress,
    )


def write_page(
    target: Path, render: Callable[[], str], what: str, progress: Progress | None = None
) -> Path:
    """Render a page and write it atomically (the book, the provenance report), reporting the
    two steps; return its path."""
    if progress:
        progress(0, 2, f"Rendering {what}")
    text = render()
    if progress:
        progress(1, 2, f"Writing {what}")
    path = atomic_write(Path(target), lambda temp: write_text(temp, text))
    if progress:
        progress(2, 2, "Done")
    return path
