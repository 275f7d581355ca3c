"""``coauthor verify`` for an export: an EPUB, a Markdown file, an HTML book or report, a DOCX.

``verify_export(path)`` reads the provenance manifest the export carries (see ``manifest.py``),
then checks, stopping at the first mismatch (``VerifyFailed``, one line):

1. the signature over the manifest, with the public key the manifest names, and that the
   fingerprint is that key's (an unsigned manifest's checksum instead, reported as unsigned);
   with ``expect_key``, that the signer is that key;
2. each chapter: its text, read back from the export's own markup (the EPUB's XHTML, the
   HTML's paragraphs, the Markdown's sections as ``coauthor import`` reads them, the DOCX's
   paragraphs between its ``Heading 1`` titles), against the
   manifest's hash, and its title; its origin runs against its character count;
3. the foreword: its paragraphs against the manifest's hash, and that it is the foreword the
   manifest's figures produce (rendered again from them with Coauthor's template when the
   manifest says it came from that template; otherwise checked to state the figures' models
   and shares, as export checks a reworded foreword);
4. the generations: every generation the chapters' runs name is listed;
5. the files: every other byte of the export (metadata, tables, markup) against the
   manifest's file hashes.

A print PDF's text is not read back (hyphenation, ligatures, running heads and page numbers
make extracted text inexact): for a PDF, 2 and 3 become checks of the manifest alone (the
chapters' runs cover their character counts; the foreword hash is that of the foreword the
figures produce), and 5 is the SHA-256 of every byte of the PDF but the manifest's.

What a valid signature proves, and what it does not, is ``manifest.STATEMENT``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coauthor.core.chain import ChainReplayer
from coauthor.core.history import EditEvent
from coauthor.core.origin import Origin
from coauthor.publish.foreword import ForewordFacts, check_foreword, template_context
from coauthor.publish.foreword_source import foreword_from_figures, foreword_template_sha256
from coauthor.publish.manifest import (
    MANIFEST_VERSION,
    canonical,
    display_title,
    foreword_export_paragraphs,
    json_value,
    sha256_bytes,
    sha256_text,
    signed_bytes,
)
from coauthor.publish.read_export import EXPORT_SUFFIXES, VerifyFailed, _Read, read_export
from coauthor.publish.roles import measure_roles
from coauthor.publish.signing import fingerprint, normal_fingerprint, verify_signature

__all__ = [
    "EXPORT_SUFFIXES",
    "ExportCheck",
    "VerifyFailed",
    "check_against_chain",
    "describe",
    "read_export",
    "verify_export",
]


@dataclass
class ExportCheck:
    """A verified export: its manifest and what was checked."""

    path: Path
    manifest: dict[str, Any]
    signed: bool
    signer_name: str
    fingerprint: str
    checked: list[str]
    notes: list[str]

    @property
    def head(self) -> tuple[int, str]:
        chain = self.manifest["chain"]
        return int(chain["head_seq"]), str(chain["head_hash"])


# -- checking -----------------------------------------------------------------------------------


def _manifest(text: str) -> dict[str, Any]:
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VerifyFailed(
            f"the manifest is not valid JSON ({exc.msg} at character {exc.pos}): "
            "it was changed after it was made"
        ) from None
    except ValueError as exc:  # e.g. a number too long to read
        raise VerifyFailed(f"the manifest cannot be read ({exc})") from None
    if not isinstance(manifest, dict):
        raise VerifyFailed("the manifest is not a JSON object: it was changed after it was made")
    version = manifest.get("coauthor_manifest")
    if version != MANIFEST_VERSION:
        raise VerifyFailed(
            f"the manifest has version {version!r}; this Coauthor reads version {MANIFEST_VERSION}"
        )
    for key in ("chain", "figures", "foreword", "chapters", "generations", "export", "signature"):
        if key not in manifest:
            raise VerifyFailed(f"the manifest has no {key!r}: it was changed after it was made")
    return manifest


def _check_signature(manifest: dict[str, Any], expect_key: str | None) -> tuple[str, str]:
    """(signer name, fingerprint), or ("", "") for an unsigned manifest whose checksum holds."""
    signature = manifest.get("signature") or {}
    signer = manifest.get("signer")
    body = signed_bytes(manifest)
    algorithm = signature.get("algorithm") if isinstance(signature, dict) else None
    if algorithm == "ed25519" and isinstance(signer, dict):
        public_key = str(signer.get("public_key", ""))
        named = str(signer.get("fingerprint", ""))
        try:
            actual = fingerprint(base64.b64decode(public_key, validate=True))
        except ValueError:
            raise VerifyFailed("the manifest's public key is not base64") from None
        if actual != named:
            raise VerifyFailed(
                f"the manifest names the fingerprint {named}, but its public key's is {actual}"
            )
        if not verify_signature(public_key, str(signature.get("value", "")), body):
            raise VerifyFailed(
                "the signature does not match the manifest: the manifest was changed after it "
                f"was signed, or it was signed by another key than the one it names ({named})"
            )
        if expect_key and normal_fingerprint(expect_key) != actual:
            raise VerifyFailed(
                f"signed by another key: {signer.get('name', '?')}, fingerprint {actual}, "
                f"not {normal_fingerprint(expect_key)}"
            )
        return str(signer.get("name", "")), actual
    if algorithm == "sha256" and signer is None:
        if str(signature.get("value", "")) != sha256_bytes(body):
            raise VerifyFailed(
                "the manifest was changed after it was made (its checksum does not match)"
            )
        if expect_key:
            raise VerifyFailed(
                f"the export is not signed ({manifest.get('unsigned_reason', 'no reason given')}),"
                f" so not by {normal_fingerprint(expect_key)}"
            )
        return "", ""
    raise VerifyFailed("the manifest's signature is missing or malformed")


def _label(entry: dict[str, Any]) -> str:
    title = " ".join(str(entry.get("title", "")).split())
    return (
        f"chapter {entry.get('number', '?')} ({title})"
        if title
        else f"chapter {entry.get('number', '?')}"
    )


def _shown_title(fmt: str, entry: dict[str, Any]) -> str:
    title, number = str(entry.get("title", "")), int(entry.get("number", 0))
    if fmt == "markdown":
        return title
    shown = foreword_export_paragraphs([display_title(title, number)], fmt)
    text = shown[0] if shown else ""
    return f"{number}. {text}" if fmt == "report" else text


def _check_chapters(read: _Read, manifest: dict[str, Any]) -> None:
    entries = manifest["chapters"]
    if len(read.chapters) != len(entries):
        raise VerifyFailed(
            f"the export has {len(read.chapters)} chapters; the manifest lists {len(entries)}"
        )
    form = manifest.get("text_form")
    for (title, text), entry in zip(read.chapters, entries, strict=True):
        if title != _shown_title(read.fmt, entry):
            raise VerifyFailed(f"{_label(entry)}: its title is not the title the manifest lists")
        if sha256_text(text) != entry.get("sha256"):
            raise VerifyFailed(
                f"{_label(entry)}: its text is not the text the manifest lists (the SHA-256 "
                "differs)"
            )
        runs = entry.get("runs") or []
        length = sum(int(run[0]) for run in runs)
        if length != entry.get("characters") or (form == "exact" and len(text) != length):
            raise VerifyFailed(f"{_label(entry)}: its origin runs do not cover its text")


def _check_runs(manifest: dict[str, Any]) -> None:
    totals = dict.fromkeys((o.value for o in Origin), 0)
    listed = {str(g.get("id")) for g in manifest["generations"]}
    for entry in manifest["chapters"]:
        for length, origin, ref in entry.get("runs") or []:
            if origin not in totals:
                raise VerifyFailed(f"{_label(entry)}: a run has the unknown origin {origin!r}")
            totals[origin] += int(length)
            if origin == Origin.AI.value and ref and str(ref) not in listed:
                raise VerifyFailed(
                    f"{_label(entry)}: its model text is from generation {ref}, which the "
                    "manifest does not list"
                )
    characters = manifest.get("characters") or {}
    for origin, count in totals.items():
        if int(characters.get(origin, -1)) != count:
            raise VerifyFailed(
                f"the manifest's {origin} characters ({characters.get(origin)}) are not the sum "
                f"of the chapters' runs ({count})"
            )


def _check_foreword(read: _Read, manifest: dict[str, Any], notes: list[str]) -> str:
    foreword = manifest["foreword"]
    count = int(foreword.get("paragraphs", 0))
    paragraphs = read.foreword[:count] if read.fmt == "markdown" else read.foreword
    if (
        read.fmt != "markdown"
        and read.foreword_title
        != foreword_export_paragraphs([str(foreword.get("title", ""))], read.fmt)[0]
    ):
        raise VerifyFailed("the foreword's title is not the one the manifest lists")
    if sha256_text("\n\n".join(paragraphs)) != foreword.get("sha256"):
        raise VerifyFailed(
            "the foreword is not the foreword the manifest lists (its SHA-256 differs)"
        )
    figures = manifest["figures"]
    template = foreword.get("template_sha256")
    if foreword.get("source") == "template" and template == foreword_template_sha256():
        expected = foreword_export_paragraphs(foreword_from_figures(figures), read.fmt)
        if expected != paragraphs:
            raise VerifyFailed(
                "the foreword is not the one the manifest's figures produce with Coauthor's "
                "template"
            )
        return "the foreword (rendered again from the figures: identical)"
    models = tuple(str(m.get("name", "")) for m in figures.get("models", []) if isinstance(m, dict))
    facts = ForewordFacts(
        models if figures.get("ai_percent") else (),
        int(figures.get("ai_percent", 0)),
        int(figures.get("human_percent", 0)),
    )
    problems = check_foreword("\n\n".join(paragraphs), facts)
    if problems:
        raise VerifyFailed(f"the foreword does not state the manifest's figures: {problems[0]}")
    why = (
        "reworded by the author"
        if foreword.get("source") == "reworded"
        else "rendered from another template than this Coauthor's"
    )
    notes.append(f"The foreword was {why}; it was checked to state the figures' models and shares.")
    return "the foreword (it states the figures)"


def _check_files(read: _Read, manifest: dict[str, Any]) -> str:
    export = manifest["export"]
    if read.fmt in ("epub", "docx") or export.get("folder"):
        listed = export.get("files")
        if not isinstance(listed, dict):
            raise VerifyFailed("the manifest lists no file hashes")
        for name in sorted(set(listed) | set(read.files)):
            if name not in read.files:
                raise VerifyFailed(f"{name} is missing from the export")
            if name not in listed:
                raise VerifyFailed(f"{name} was added to the export after it was made")
            if listed[name] != read.files[name]:
                raise VerifyFailed(f"{name} was changed after the export was made")
        return f"{len(listed)} files"
    if export.get("file_sha256") != read.file_sha256:
        raise VerifyFailed(
            "the file was changed after it was made outside the chapters and the foreword "
            "(its metadata, title page, tables or markup)"
        )
    return "the whole file"


def verify_export(path: Path, *, expect_key: str | None = None) -> ExportCheck:
    """Check an export against its manifest (see the module docstring); raises
    ``VerifyFailed`` with the first mismatch."""
    read = read_export(Path(path))
    manifest = _manifest(read.manifest_json)
    if manifest.get("format") not in (read.fmt, None) and not (
        read.fmt == "html" and manifest.get("format") == "report"
    ):
        raise VerifyFailed(
            f"the manifest is for a {manifest.get('format')} export, not this {read.fmt} file"
        )
    name, key = _check_signature(manifest, expect_key)
    if read.fmt == "pdf":
        return _verify_pdf(Path(path), read, manifest, name, key)
    _check_chapters(read, manifest)
    _check_runs(manifest)
    notes: list[str] = []
    foreword = _check_foreword(read, manifest, notes)
    files = _check_files(read, manifest)
    checked = [
        "the signature" if key else "the manifest's checksum (not a signature)",
        f"{len(read.chapters)} chapter texts and titles",
        foreword,
        f"{len(manifest['generations'])} generations named by the text",
        files,
    ]
    if not key:
        notes.insert(
            0,
            "NOT SIGNED: "
            + str(manifest.get("unsigned_reason") or "no reason given")
            + ". The hashes match, but anyone could have rewritten them and the manifest.",
        )
    return ExportCheck(Path(path), manifest, bool(key), name, key, checked, notes)


def _verify_pdf(
    path: Path, read: _Read, manifest: dict[str, Any], name: str, key: str
) -> ExportCheck:
    """A PDF: the manifest's own consistency and the hash of the file without it."""
    for entry in manifest["chapters"]:
        runs = entry.get("runs") or []
        if sum(int(run[0]) for run in runs) != entry.get("characters"):
            raise VerifyFailed(f"{_label(entry)}: its origin runs do not cover its text")
    _check_runs(manifest)
    notes: list[str] = []
    foreword = manifest["foreword"]
    if (
        foreword.get("source") == "template"
        and foreword.get("template_sha256") == foreword_template_sha256()
    ):
        expected = foreword_export_paragraphs(foreword_from_figures(manifest["figures"]), "pdf")
        if sha256_text("\n\n".join(expected)) != foreword.get("sha256"):
            raise VerifyFailed(
                "the manifest's foreword is not the one its figures produce with Coauthor's "
                "template"
            )
        foreword_line = "the foreword's hash (that of the foreword the figures produce)"
    else:
        foreword_line = "not the foreword (reworded, or from another template)"
    if manifest["export"].get("file_sha256") != read.file_sha256:
        raise VerifyFailed("the PDF was changed after it was made (its SHA-256 differs)")
    notes.append(
        "A PDF's text is not read back: the chapters' hashes in the manifest are Coauthor's "
        "record of the text it typeset, and the PDF's own hash shows the file is unchanged."
    )
    if not key:
        notes.insert(
            0,
            "NOT SIGNED: "
            + str(manifest.get("unsigned_reason") or "no reason given")
            + ". The hashes match, but anyone could have rewritten them and the manifest.",
        )
    checked = [
        "the signature" if key else "the manifest's checksum (not a signature)",
        f"{len(manifest['chapters'])} chapters' origin runs",
        foreword_line,
        f"{len(manifest['generations'])} generations named by the text",
        "every byte of the PDF but the manifest (SHA-256)",
    ]
    return ExportCheck(path, manifest, bool(key), name, key, checked, notes)


# -- against the project's chain ----------------------------------------------------------------


def _first_key_difference(ours: dict[str, Any], theirs: dict[str, Any]) -> str | None:
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            return key
    return None


def check_against_chain(
    check: ExportCheck, events: Iterable[EditEvent], project_name: str
) -> list[str]:
    """Check that the manifest's head is an event of the project's chain (``events``: the
    project's events up to the head, in order), that the signing key is recorded there, and
    that the chapters, the generations and the figures are those of the project at that event.
    Returns the lines that say so; raises ``VerifyFailed`` with the first mismatch."""
    manifest = check.manifest
    head_seq, head_hash = check.head
    replayer = ChainReplayer()
    last: EditEvent | None = None
    for event in events:
        replayer.feed(event)
        last = event
    if last is None or last.seq != head_seq:
        raise VerifyFailed(
            f"the manifest's head, event {head_seq}, is not in {project_name}'s chain "
            f"(it has {0 if last is None else last.seq} events)"
        )
    if last.hash.hex() != head_hash:
        raise VerifyFailed(
            f"event {head_seq} of {project_name}'s chain has another hash than the manifest's "
            "head: the export was not made from this project's record"
        )
    project = replayer.finish()
    lines = [f"{project_name}: the manifest's head is event {head_seq} of its chain."]
    if check.signed:
        recorded = project.signing_keys.get(check.fingerprint)
        if recorded is None:
            known = ", ".join(sorted(project.signing_keys)) or "none"
            raise VerifyFailed(
                f"signed by another key: {check.signer_name}, fingerprint {check.fingerprint}, "
                f"is not a key {project_name}'s chain records up to event {head_seq} "
                f"(it records: {known})"
            )
        lines.append(f"{project_name}: the signing key is recorded in its chain ({recorded.name}).")
    chapters = manifest["chapters"]
    if len(project.chapters) != len(chapters):
        raise VerifyFailed(
            f"the project had {len(project.chapters)} chapters at event {head_seq}; the manifest "
            f"lists {len(chapters)}"
        )
    for chapter, entry in zip(project.chapters, chapters, strict=True):
        if chapter.id != entry.get("id") or chapter.title != entry.get("title"):
            raise VerifyFailed(
                f"{_label(entry)} is not the project's chapter {entry.get('number')}"
            )
        if sha256_text(chapter.text.text) != entry.get("source_sha256"):
            raise VerifyFailed(
                f"{_label(entry)}: its text is not the project's at event {head_seq}"
            )
        runs = [[n, o.value, r] for n, o, r in chapter.text.runs()]
        if runs != entry.get("runs"):
            raise VerifyFailed(
                f"{_label(entry)}: its origin runs are not the project's at event {head_seq}"
            )
    for entry in manifest["generations"]:
        generation = project.generations.get(str(entry.get("id")))
        if generation is None:
            raise VerifyFailed(f"generation {entry.get('id')} is not in the project's chain")
        ours = {
            "provider": generation.provider,
            "model": generation.model,
            "prompt_sha256": sha256_bytes(canonical(json_value(generation.messages))),
            "output_sha256": sha256_text(generation.output),
            "review_state": str(generation.review_state),
            "reviewer": generation.reviewer,
        }
        differs = _first_key_difference(ours, {k: entry.get(k) for k in ours})
        if differs:
            raise VerifyFailed(
                f"generation {entry.get('id')}: its {differs.replace('_', ' ')} is not the "
                f"project's at event {head_seq}"
            )
    roles = measure_roles(project.chapters, project.generations)
    figures = json_value(template_context(project.meta, roles))
    differs = _first_key_difference(figures, manifest["figures"])
    if differs:
        raise VerifyFailed(
            f"the manifest's figure {differs} ({manifest['figures'].get(differs)!r}) is not the "
            f"one the project gives at event {head_seq} ({figures.get(differs)!r})"
        )
    lines.append(
        f"{project_name}: the chapters, their origins, the generations and the figures are the "
        f"project's at event {head_seq}."
    )
    return lines


_NOT_PROVED = (
    "It does not prove that the key holder typed honestly, or that a person wrote any part of "
    "the text: it is not a certificate of human authorship."
)

_NOT_PROVED_UNSIGNED = (
    "It does not prove who made the export, that anyone typed honestly, or that a person wrote "
    "any part of the text: it is not a certificate of human authorship."
)

# -- the report ---------------------------------------------------------------------------------

_PERCENTS = (
    ("ai_percent", "drafted by a language model"),
    ("human_percent", "written by the author"),
    ("pasted_percent", "pasted"),
    ("pasted_elsewhere_percent", "pasted from elsewhere"),
    ("declared_percent", "pasted and declared the author's own writing"),
    ("imported_percent", "imported"),
)


def _figures_line(figures: dict[str, Any]) -> str:
    parts = [
        f"{figures[key]}% {label}"
        for key, label in _PERCENTS
        if isinstance(figures.get(key), int) and (figures[key] or key == "ai_percent")
    ]
    models = [
        f"{m.get('name')} ({m.get('provider')})"
        for m in figures.get("models") or []
        if isinstance(m, dict)
    ]
    if models:
        parts.append("models: " + ", ".join(models))
    if isinstance(figures.get("edited_percent"), int) and figures.get("ai_percent"):
        parts.append(f"the author changed {figures['edited_percent']}% of the model's drafts")
    shown = {key for key, _ in _PERCENTS} | {"edited_percent"}
    counts = [
        f"{key.replace('_', ' ')} {value}"
        for key, value in figures.items()
        if key not in shown and isinstance(value, int) and not isinstance(value, bool)
    ]
    if counts:
        parts.append("generations: " + ", ".join(counts))
    if figures.get("category"):
        parts.append(str(figures["category"]))
    return "; ".join(parts)


def describe(check: ExportCheck, project_lines: list[str] | None = None) -> str:
    """What ``coauthor verify`` prints for an export that passed."""
    manifest = check.manifest
    head_seq, head_hash = check.head
    book = manifest.get("book") or {}
    authors = ", ".join(str(a) for a in book.get("authors") or []) or "no author named"
    lines = [f"{check.path}: OK, the export matches its provenance manifest."]
    if check.signed:
        lines.append(f"Signed by {check.signer_name}, Ed25519 key {check.fingerprint}.")
    lines.extend(check.notes)
    made = (
        f"Book: {book.get('title', '')} by {authors}; made with Coauthor "
        f"{manifest.get('coauthor_version', '?')} from the record ending at event {head_seq} "
        f"(hash {head_hash})."
    )
    proves = (
        "the export is unchanged since the holder of this key made it with Coauthor from a "
        "record with that last event."
        if check.signed
        else "nothing about who made it: an unsigned manifest can be rewritten by anyone; its "
        "hashes only show that the texts match it."
    )
    lines += [
        made,
        f"Figures: {_figures_line(manifest['figures'])}.",
        "Checked: " + "; ".join(check.checked) + ".",
        *(project_lines or []),
        f"What this proves: {proves} {_NOT_PROVED if check.signed else _NOT_PROVED_UNSIGNED}",
    ]
    return "\n".join(lines) + "\n"
