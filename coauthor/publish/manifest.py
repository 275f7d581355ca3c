"""The provenance manifest every export carries, and how it is signed.

``build_manifest`` describes one export of a ``BookDocument``: the title and authors, the
Coauthor version, the head of the history it was made from (sequence and hash), the figures
the foreword states (``foreword.template_context``) with the characters by origin they come
from, the foreword's hash and where it came from, each chapter's title, the hash of its text
as this export carries it, the hash of its exact text in the record and its origin runs, every
generation whose text is in the book (provider, model, parameters, hashes of the prompt and of
the output, review state, reviewer and times), hashes of the export's files, and who signed.

Signing: ``signed_bytes`` is the canonical JSON of the manifest without its ``signature``
field (keys sorted, no whitespace, ASCII with ``\\u`` escapes, so UTF-8 too);
``signature`` is ``{"algorithm": "ed25519", "value": <base64>}`` made with the author's key,
or, when the export could not be signed (no keyring), ``{"algorithm": "sha256", "value":
<hex>}``: a bare checksum anyone can recompute, which the manifest and ``coauthor verify`` call
unsigned.

"Text as this export carries it" (``text_form``):

- ``exact`` (Markdown): the chapter's exact text (NUL, the other C0 controls but tab, line
  feed and carriage return, and lone surrogates, which Markdown or UTF-8 cannot hold, as U+FFFD); ``annotated`` for an annotated Markdown export (the text with its spans);
- ``paragraphs`` (EPUB, HTML book, report): the text a reader sees (``markup.visible_text``:
  each paragraph, heading, list item's paragraph, quotation's paragraph and code block, with
  the Markdown markers gone and escapes resolved, stripped of the white space around it; a
  scene break as ``* * *``), separated by one blank line; characters XML or HTML forbid are
  U+FFFD, as the writers put them. The DOCX's is the same rule applied to what Word shows:
  a soft line break as one space, a scene break as the mark of its style (``#`` in the
  manuscript style, ``* * *`` in the book style).

Where each format keeps it (the file minus the manifest is what ``export`` hashes):

- EPUB: the entry ``META-INF/coauthor-manifest.json``; ``export.files`` has the SHA-256 of
  every other entry of the archive;
- Markdown: the last line of the front matter, ``coauthor_manifest: "<the JSON>"``
  (``coauthor import`` keeps the front matter in the import record and takes no text from it);
  ``export.file_sha256`` is the file without that line. A folder export keeps it in the
  foreword file, and ``export.files`` has every file of the export;
- HTML book and report: one line before ``</body>``, ``<pre id="coauthor-manifest"
  hidden>…</pre>``, the JSON escaped; ``export.file_sha256`` is the file without that line;
- DOCX: the entry ``docProps/coauthor-manifest.json`` (with the content type
  ``application/json``); ``export.files`` has the SHA-256 of every other entry;
- PDF: an attached file, ``coauthor-manifest.json``, stored uncompressed and padded with
  spaces; ``export.file_sha256`` is the PDF without the attachment's bytes
  (``read_export.pdf_manifest_span``). Its chapters' hashes are of the ``paragraphs`` form
  (the text is not read back from the PDF).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from coauthor import __version__
from coauthor.core.origin import Origin
from coauthor.publish.document import (
    BookDocument,
    ChapterDoc,
    annotated_text,
    clean_markdown_text,
    clean_xml_text,
)
from coauthor.publish.foreword import template_context
from coauthor.publish.markup import block_text, leaf_blocks

__all__ = [
    "DOCX_ENTRY",
    "EPUB_ENTRY",
    "HTML_ID",
    "MANIFEST_VERSION",
    "MARKDOWN_FIELD",
    "STATEMENT",
    "build_manifest",
    "canonical",
    "chapter_export_text",
    "display_title",
    "foreword_export_paragraphs",
    "html_manifest_line",
    "json_value",
    "embed_html",
    "embed_markdown",
    "manifest_text",
    "markdown_manifest_line",
    "markup_text",
    "page_sha256",
    "sha256_bytes",
    "sha256_text",
    "signed_bytes",
    "text_form",
]

MANIFEST_VERSION = 1
EPUB_ENTRY = "META-INF/coauthor-manifest.json"
DOCX_ENTRY = "docProps/coauthor-manifest.json"
MARKDOWN_FIELD = "coauthor_manifest"
HTML_ID = "coauthor-manifest"

STATEMENT = (
    "This manifest lists what Coauthor recorded about this export. A valid signature proves "
    "that the export is unchanged since the holder of the signing key made it with Coauthor "
    "from a provenance record whose last event has the hash given here. It does not prove "
    "that the key holder typed honestly, or that a person wrote any part of the text: it is "
    "not a certificate of human authorship."
)

_NOT_HTML = re.compile("[\x7f-\x9f\ufdd0-\ufdef]")
_MARKUP_FORMATS = ("epub", "html", "report", "docx", "pdf")
_JSON_INERT = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def canonical(value: object) -> bytes:
    """Canonical JSON: keys sorted, no whitespace, ASCII (``\\u`` escapes), and ``<``, ``>``
    and ``&`` escaped too, so that it is inert text wherever it is embedded."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.translate(_JSON_INERT).encode("ascii")


def signed_bytes(manifest: Mapping[str, object]) -> bytes:
    """What the signature covers: the canonical manifest without its ``signature``."""
    return canonical({k: v for k, v in manifest.items() if k != "signature"})


def manifest_text(manifest: Mapping[str, object]) -> str:
    """The manifest as embedded: its canonical JSON, one line."""
    return canonical(dict(manifest)).decode("ascii")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8", "surrogatepass"))


# -- the text as each format carries it ---------------------------------------------------------


def text_form(fmt: str, *, annotate: bool = False) -> str:
    if fmt in _MARKUP_FORMATS:
        return "paragraphs"
    return "annotated" if annotate else "exact"


def markup_text(text: str, *, newlines: bool = False) -> str:
    """Text as the EPUB and HTML writers put it: characters XML or HTML forbid as U+FFFD
    (and, for the EPUB, ``\\r\\n`` and ``\\r`` as ``\\n``)."""
    if newlines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_HTML.sub("\ufffd", clean_xml_text(text))


def _utf8(text: str) -> str:
    """Text as the Markdown writer puts it (``clean_markdown_text``): NUL, other controls and
    lone surrogates as U+FFFD."""
    return clean_markdown_text(text)


def chapter_export_text(chapter: ChapterDoc, fmt: str, *, annotate: bool = False) -> str:
    """The chapter's text as an export in ``fmt`` carries it (see the module docstring)."""
    if fmt in _MARKUP_FORMATS:
        newlines = fmt in ("epub", "docx", "pdf")
        return "\n\n".join(
            markup_text(text, newlines=newlines)
            for text in map(block_text, leaf_blocks(chapter.blocks))
            if text
        )
    if annotate:
        return _utf8(annotated_text(chapter))
    return _utf8(chapter.text)


def foreword_export_paragraphs(paragraphs: list[str], fmt: str) -> list[str]:
    """The foreword's paragraphs as an export in ``fmt`` carries them."""
    if fmt in _MARKUP_FORMATS:
        newlines = fmt in ("epub", "docx", "pdf")
        return [markup_text(p, newlines=newlines) for p in paragraphs if p.strip()]
    return [_utf8(p) for p in paragraphs]


def display_title(title: str, number: int) -> str:
    """A chapter title as the EPUB and HTML headings show it."""
    return " ".join(title.split()) or f"Chapter {number}"


# -- the manifest -------------------------------------------------------------------------------


def _iso(ms: int | None) -> str | None:
    if not ms:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(ms)


def json_value(value: object) -> Any:
    """A JSON value (anything else as its string)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=True))


def _shown_generations(document: BookDocument) -> set[str]:
    return {
        ref
        for chapter in document.chapters
        for _, origin, ref in chapter.runs
        if origin is Origin.AI and ref
    }


def _generations(document: BookDocument) -> list[dict[str, object]]:
    shown = _shown_generations(document)
    numbers = {c.id: c.number for c in document.chapters}
    return [
        {
            "id": g.id,
            "provider": g.provider,
            "model": g.model,
            "parameters": json_value(g.parameters),
            "prompt_sha256": sha256_bytes(canonical(json_value(g.messages))),
            "output_sha256": sha256_text(g.output),
            "output_characters": len(g.output),
            "review_state": str(g.review_state),
            "reviewer": g.reviewer,
            "reviewed_at": _iso(g.reviewed_at),
            "created_at": _iso(g.created),
            "inserted_at": _iso(g.inserted_at),
            "chapter": numbers.get(g.chapter_id or -1),
        }
        for g in document.generations
        if g.id in shown
    ]


def _chapters(
    document: BookDocument, fmt: str, annotate: bool, texts: list[str] | None
) -> list[dict[str, object]]:
    return [
        {
            "number": chapter.number,
            "id": chapter.id,
            "title": chapter.title,
            "sha256": sha256_text(
                texts[n]
                if texts is not None
                else chapter_export_text(chapter, fmt, annotate=annotate)
            ),
            "source_sha256": sha256_text(chapter.text),
            "characters": len(chapter.text),
            "runs": [[length, origin.value, ref] for length, origin, ref in chapter.runs],
        }
        for n, chapter in enumerate(document.chapters)
    ]


def build_manifest(
    document: BookDocument,
    fmt: str,
    export: Mapping[str, object],
    *,
    annotate: bool = False,
    chapter_texts: list[str] | None = None,
) -> dict[str, object]:
    """The signed (or, without a key, checksummed) manifest of one export.

    ``fmt`` is ``epub``, ``markdown``, ``html``, ``report`` or ``docx``; ``export`` holds the
    hashes of the export's files as the writer computed them (without the manifest itself).
    ``chapter_texts``, when given, are the chapters' texts as the export shows them (the DOCX
    writer's: a soft line break as a space, a scene break as the mark the style draws);
    otherwise ``chapter_export_text`` gives them.
    """
    meta = document.meta
    roles = document.roles
    foreword = foreword_export_paragraphs(document.foreword, fmt)
    manifest: dict[str, object] = {
        "coauthor_manifest": MANIFEST_VERSION,
        "statement": STATEMENT,
        "coauthor_version": __version__,
        "format": fmt,
        "text_form": text_form(fmt, annotate=annotate),
        "book": {
            "title": meta.title,
            "subtitle": meta.subtitle,
            "authors": [meta.author] if meta.author else [],
            "company": meta.company,
            "language": meta.language,
        },
        "chain": {"head_seq": document.head[0], "head_hash": document.head[1]},
        "figures": json_value(template_context(meta, roles)),
        "characters": {origin.value: roles.chars[origin] for origin in Origin},
        "foreword": {
            "title": document.foreword_title,
            "source": "reworded" if document.foreword_is_custom else "template",
            "template_sha256": document.foreword_template or None,
            "paragraphs": len(foreword),
            "sha256": sha256_text("\n\n".join(foreword)),
        },
        "chapters": _chapters(document, fmt, annotate, chapter_texts),
        "generations": _generations(document),
        "export": dict(export),
    }
    key = document.signer
    if key is not None:
        manifest["signer"] = {
            "algorithm": "ed25519",
            "name": key.name,
            "fingerprint": key.fingerprint,
            "public_key": key.public_key_b64,
        }
    else:
        manifest["signer"] = None
        manifest["unsigned_reason"] = document.unsigned_reason or "no signing key was given"
    body = signed_bytes(manifest)
    if key is not None:
        manifest["signature"] = {"algorithm": "ed25519", "value": key.sign(body)}
    else:
        manifest["signature"] = {"algorithm": "sha256", "value": sha256_bytes(body)}
    return manifest


# -- embedding ----------------------------------------------------------------------------------


def markdown_manifest_line(manifest: Mapping[str, object]) -> str:
    """The front-matter line: the JSON as a double-quoted YAML (and JSON) string."""
    return f"{MARKDOWN_FIELD}: {json.dumps(manifest_text(manifest))}\n"


def html_manifest_line(manifest: Mapping[str, object]) -> str:
    return f'<pre id="{HTML_ID}" hidden>{manifest_text(manifest)}</pre>\n'


def page_sha256(page: str) -> str:
    """SHA-256 of a page as the writers write it (UTF-8; a lone surrogate as ``?``)."""
    return sha256_bytes(page.encode("utf-8", "replace"))


def embed_html(page: str, make: Callable[[str], Mapping[str, object]]) -> str:
    """``page`` with its manifest line before its last ``</body>`` (or at its end).

    ``make`` receives the SHA-256 of the page without the line and returns the manifest.
    """
    at = page.rfind("</body>")
    if at < 0:
        prefix = page if page.endswith("\n") or not page else page + "\n"
        suffix = ""
    else:
        start = page.rfind("\n", 0, at) + 1
        if page[start:at].strip():  # </body> does not start its line
            prefix, suffix = page[:at] + "\n", page[at:]
        else:
            prefix, suffix = page[:start], page[start:]
    return prefix + html_manifest_line(make(page_sha256(prefix + suffix))) + suffix


def embed_markdown(front: str, rest: str, make: Callable[[str], Mapping[str, object]]) -> str:
    """A Markdown file: ``front`` (the front matter, ``---`` lines included), its manifest as
    the front matter's last line, then ``rest``. ``make`` gets the SHA-256 of the file
    without that line."""
    if not front.endswith("---\n"):
        raise ValueError("the front matter must end with its closing --- line")
    head = front[: -len("---\n")]
    line = markdown_manifest_line(make(page_sha256(front + rest)))
    return head + line + "---\n" + rest
