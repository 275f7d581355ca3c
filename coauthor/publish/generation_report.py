"""The file an author sends to a model's provider to report a problematic generation.

``write_generation_report`` writes one zip holding ``report.json`` (every field, for the
provider's tools) and ``report.txt`` (the same, for a person): the model and provider, the
parameters, the prompt messages and the output, the times (requested, finished, first token
when recorded), the Coauthor version, the category and the author's reason, and, only when the
author asks for it, the text around the passage (``CONTEXT_CHARS`` characters either side). It
also says what to do with the file: Coauthor sends nothing. For a security issue it points to
the provider's coordinated disclosure process (as text; nothing is fetched).

API keys are never in it: they are not part of a generation (``coauthor.ai`` keeps them in the
keyring and redacts them from every error sentence), and nothing here reads the keyring or the
environment. The zip is reproducible (its entries carry the report's time) and written
atomically (``publish.document.atomic_write``); ``sha256`` is what the chain's report event
records. ``report_generation`` writes it and then records the report in the project.
"""

from __future__ import annotations

import hashlib
import io
import json
import textwrap
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coauthor import __version__
from coauthor.core.generation import Generation
from coauthor.core.origin import Origin
from coauthor.core.project import REPORT_CATEGORIES, Project, ProjectError
from coauthor.publish.document import atomic_write
from coauthor.publish.html_export import iso_time
from coauthor.publish.labels import PROVIDER_NAMES

__all__ = [
    "CONTEXT_CHARS",
    "FORMAT",
    "OPENAI_DISCLOSURE",
    "ReportBundle",
    "disclosure_advice",
    "report_data",
    "report_generation",
    "report_text",
    "write_generation_report",
]

FORMAT = "coauthor-generation-report/1"
CONTEXT_CHARS = 1000
"""How much of the book goes with the passage when the author includes the surrounding text:
up to this many characters before it and after it, from the chapter it is in."""

OPENAI_DISCLOSURE = "https://openai.com/policies/coordinated-vulnerability-disclosure-policy/"
"""OpenAI's coordinated vulnerability disclosure policy (printed as text, never opened)."""

_JSON_NAME = "report.json"
_TEXT_NAME = "report.txt"


@dataclass(frozen=True)
class ReportBundle:
    path: Path
    sha256: str
    data: dict[str, Any]


def disclosure_advice(provider: str) -> str:
    """Where a security issue in this provider's generation goes (one paragraph)."""
    if provider == "openai":
        return (
            "A security issue goes to OpenAI's coordinated vulnerability disclosure process, "
            f"not to a public forum: see {OPENAI_DISCLOSURE} and follow the steps there."
        )
    if provider == "embedded":
        return (
            "This generation came from the model built into Coauthor, run on this computer: no "
            "company received the prompt. Report a security issue privately to the maintainers "
            "of the model file (its publisher's security contact, named on the model's page) "
            "and, if Coauthor itself is at fault, to Coauthor's maintainers, before telling "
            "anyone else."
        )
    return (
        "This generation came from a server set up in the model settings. Report a security "
        "issue privately to whoever runs that server, and to the maintainers of the model it "
        "serves, before telling anyone else."
    )


def _what_to_do(provider: str, category: str) -> str:
    who = PROVIDER_NAMES.get(provider) or f"the provider {provider!r}"
    if provider == "openai":
        where = "through OpenAI's help centre (https://help.openai.com), attaching this file"
    elif provider == "embedded":
        where = "to the maintainers of the model file (see the model's page), attaching this file"
    else:
        where = "to whoever runs the server and maintains its model, attaching this file"
    send = (
        disclosure_advice(provider)
        if category == "security issue"
        else f"The generation came from {who}. Send the report {where}."
    )
    return (
        "Coauthor has sent nothing: this file stays on your computer until you send it.\n"
        f"{send}\n"
        "Read the file first: it holds the prompt and the model's text exactly as recorded."
    )


def _timing(generation: Generation) -> dict[str, Any]:
    timing = dict(generation.timing)
    first = timing.get("first_token_s")
    first_ms = (
        generation.created + round(float(first) * 1000)
        if isinstance(first, int | float) and generation.created
        else None
    )
    return {
        "requested": iso_time(generation.created),
        "finished": iso_time(generation.finished),
        "first_token": iso_time(first_ms) if first_ms else "",
        "requested_ms": generation.created or None,
        "finished_ms": generation.finished,
        "first_token_ms": first_ms,
        "recorded": timing,
    }


def _context(project: Project, generation_id: str) -> dict[str, Any]:
    """The passage in its chapter with up to ``CONTEXT_CHARS`` characters either side."""
    for chapter in project.chapters:
        stretches: list[tuple[int, int]] = []
        pos = 0
        for length, origin, ref in chapter.text.runs():
            if origin is Origin.AI and ref == generation_id:
                if stretches and stretches[-1][1] == pos:
                    stretches[-1] = (stretches[-1][0], pos + length)
                else:
                    stretches.append((pos, pos + length))
            pos += length
        if not stretches:
            continue
        start, end = stretches[0][0], stretches[-1][1]
        text = chapter.text
        return {
            "characters_either_side": CONTEXT_CHARS,
            "chapter": chapter.title,
            "start": start,
            "end": end,
            "before": text.text_in(max(0, start - CONTEXT_CHARS), start),
            "passage": text.text_in(start, end),
            "after": text.text_in(end, min(len(text), end + CONTEXT_CHARS)),
            "note": (
                f"The passage as it stands in the book (characters {start}-{end} of the "
                f"chapter, edits included), with up to {CONTEXT_CHARS:,} characters before and "
                "after it."
            ),
        }
    return {
        "characters_either_side": CONTEXT_CHARS,
        "chapter": "",
        "note": "None of this generation's text is in the book, so there is no surrounding text.",
    }


def report_data(
    project: Project,
    generation_id: str,
    category: str,
    reason: str,
    *,
    by: str,
    include_context: bool,
    reported_at: int,
) -> dict[str, Any]:
    """Everything the report file holds (raises ``ProjectError`` for a report the project
    would not record: no such generation, an unknown category, no reason)."""
    problem = project.report_refusal(generation_id, category, reason)
    if problem:
        raise ProjectError(problem)
    generation = project.generations[generation_id]
    return {
        "format": FORMAT,
        "coauthor_version": __version__,
        "report": {
            "category": category,
            "reason": reason.strip(),
            "reported_by": by,
            "reported_at": iso_time(reported_at),
            "reported_at_ms": reported_at,
            "categories": list(REPORT_CATEGORIES),
        },
        "generation": {
            "id": generation.id,
            "provider": generation.provider,
            "model": generation.model,
            "parameters": generation.parameters,
            "messages": generation.messages,
            "output": generation.output,
            "outcome": str(generation.outcome),
            "error": generation.error,
            "timing": _timing(generation),
            "review_state": str(generation.review_state),
        },
        "surrounding_text": _context(project, generation_id) if include_context else None,
        "what_to_do": _what_to_do(generation.provider, category),
    }


def _block(text: str) -> str:
    return textwrap.indent(text, "    ", lambda _: True) if text else "    (empty)"


def report_text(data: dict[str, Any]) -> str:
    """The report for a person to read (the same facts as ``report.json``)."""
    report, generation = data["report"], data["generation"]
    timing = generation["timing"]
    lines = [
        "REPORT OF A PROBLEMATIC GENERATION",
        "",
        "What to do with this file",
        "-------------------------",
        data["what_to_do"],
        "",
        "The report",
        "----------",
        f"Category:     {report['category']}",
        f"Reported by:  {report['reported_by'] or '(not named)'}",
        f"Reported at:  {report['reported_at']} (UTC)",
        "Reason:",
        _block(report["reason"]),
        "",
        "The generation",
        "--------------",
        f"Id:           {generation['id']}",
        f"Provider:     {generation['provider']}",
        f"Model:        {generation['model']}",
        f"Outcome:      {generation['outcome']}",
        f"Requested:    {timing['requested'] or '(not recorded)'}",
        f"First token:  {timing['first_token'] or '(not recorded)'}",
        f"Finished:     {timing['finished'] or '(not recorded)'}",
        f"Coauthor:     {data['coauthor_version']}",
        "Parameters:",
        _block(json.dumps(generation["parameters"], ensure_ascii=False, indent=2, sort_keys=True)),
    ]
    if generation["error"]:
        lines += ["Error:", _block(generation["error"])]
    lines += ["", "The prompt messages", "-------------------"]
    for message in generation["messages"]:
        lines += [f"[{message.get('role', '?')}]", _block(str(message.get("content", "")))]
    lines += ["", "The model's output", "------------------", _block(generation["output"]), ""]
    context = data["surrounding_text"]
    lines += ["The surrounding text", "--------------------"]
    if context is None:
        lines.append("Not included (the author chose not to send the book's text).")
    else:
        lines.append(context["note"])
        if "passage" in context:
            lines += [
                f"Chapter: {context['chapter']}",
                "Before:",
                _block(context["before"]),
                "The passage:",
                _block(context["passage"]),
                "After:",
                _block(context["after"]),
            ]
    return "\n".join(lines) + "\n"


def _zip_time(ms: int) -> tuple[int, int, int, int, int, int]:
    moment = datetime.fromtimestamp(max(ms, 315_532_800_000) / 1000, tz=UTC)  # zip: from 1980
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _zip_bytes(data: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    stamp = _zip_time(int(data["report"]["reported_at_ms"]))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (
            (_JSON_NAME, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"),
            (_TEXT_NAME, report_text(data)),
        ):
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8", "surrogatepass"))
    return buffer.getvalue()


def write_generation_report(
    project: Project,
    generation_id: str,
    category: str,
    reason: str,
    *,
    by: str,
    include_context: bool,
    target: Path,
    reported_at: int,
) -> ReportBundle:
    """Write the report zip to ``target`` atomically (``ExportWriteError`` if it cannot be
    written; nothing at the target changes then) and return it with its SHA-256."""
    data = report_data(
        project,
        generation_id,
        category,
        reason,
        by=by,
        include_context=include_context,
        reported_at=reported_at,
    )
    payload = _zip_bytes(data)

    def write(temp: Path) -> None:
        temp.write_bytes(payload)

    path = atomic_write(Path(target), write)
    return ReportBundle(path, hashlib.sha256(payload).hexdigest(), data)


def report_generation(
    project: Project,
    generation_id: str,
    category: str,
    reason: str,
    *,
    by: str,
    include_context: bool,
    target: Path,
    reported_at: int | None = None,
) -> ReportBundle:
    """Write the report file, then record the report (with the file's hash) in the project's
    history; the caller saves the project. A refused report writes nothing."""
    when = project.clock() if reported_at is None else reported_at
    bundle = write_generation_report(
        project,
        generation_id,
        category,
        reason,
        by=by,
        include_context=include_context,
        target=target,
        reported_at=when,
    )
    project.record_report(
        generation_id,
        category,
        reason,
        by=by,
        include_context=include_context,
        bundle_sha256=bundle.sha256,
        time=when,
    )
    return bundle
