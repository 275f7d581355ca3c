"""Import a CoAuthor writing-session log (Lee, Liang and Yang, CHI 2022) as one chapter.

A log is one JSON event per line (``.jsonl``, or gzipped ``.jsonl.gz``). The chapter replays
every text event in order, with its original time: the starting text (the study's prompt) is
``imported``, edits by the writer are ``human``, and text inserted from the model
(``eventSource: api``) is ``ai``, with one pending generation record per accepted suggestion.
Quill positions count UTF-16 code units; they are converted to code points here.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from coauthor.core.textpos import Utf16Map
from coauthor.importers.errors import ImportFailed

__all__ = ["COAUTHOR_MODEL", "COAUTHOR_PROVIDER", "LogEdit", "ParsedSession", "parse_session_log"]

COAUTHOR_MODEL = "GPT-3 (CoAuthor study)"
COAUTHOR_PROVIDER = "coauthor-study"

_PARAMETER_FIELDS = {
    "currentTemperature": "temperature",
    "currentMaxToken": "max_tokens",
    "currentTopP": "top_p",
    "currentPresencePenalty": "presence_penalty",
    "currentFrequencyPenalty": "frequency_penalty",
    "currentN": "n",
}


@dataclass
class LogEdit:
    """One edit in code points: delete ``delete`` characters at ``pos``, then insert ``text``."""

    pos: int
    delete: int
    text: str
    source: str  # "user" or "api"
    time: int
    event_num: int
    parameters: dict[str, float] = field(default_factory=dict)


@dataclass
class ParsedSession:
    source: Path
    session_id: str
    sha256: str
    prompt: str
    start_time: int
    edits: list[LogEdit]
    final_text: str
    event_count: int


def _number(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


def _parameters(event: dict[str, object]) -> dict[str, float]:
    params = {}
    for key, name in _PARAMETER_FIELDS.items():
        if key in event and event[key] not in ("", None):
            number = _number(event[key])
            if number is not None:
                params[name] = number
    return params


def _delta_ops(raw: object, where: str) -> list[dict[str, object]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            try:
                raw = ast.literal_eval(raw)
            except (ValueError, SyntaxError):
                raise ImportFailed(f"{where}: textDelta is neither JSON nor a literal") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("ops"), list):
        raise ImportFailed(f"{where}: textDelta has no list of ops")
    return raw["ops"]


def _session_id(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return name


def _read_lines(path: Path) -> tuple[list[str], str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror or exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ImportFailed(f"{path} is a damaged gzip file ({exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path} is not valid UTF-8: byte at offset {exc.start}") from None
    return text.splitlines(), digest


def parse_session_log(path: Path) -> ParsedSession:
    """Read and replay a session log in memory, checking every event applies."""
    lines, digest = _read_lines(path)
    doc = ""
    prompt: str | None = None
    start_time = 0
    edits: list[LogEdit] = []
    count = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            event = json.loads(line)
        except ValueError:
            raise ImportFailed(f"{where} is not valid JSON") from None
        if not isinstance(event, dict) or "eventName" not in event:
            raise ImportFailed(f"{where} is not a CoAuthor event (it has no eventName)")
        count += 1
        name = event["eventName"]
        when = int(_number(event.get("eventTimestamp", 0)) or 0)
        if name == "system-initialize":
            doc = str(event.get("currentDoc") or "")
            prompt = doc
            start_time = when
            continue
        if name not in ("text-insert", "text-delete") or not event.get("textDelta"):
            continue
        if prompt is None:
            raise ImportFailed(f"{where}: text changes before the session was initialised")
        source = "api" if event.get("eventSource") == "api" else "user"
        params = _parameters(event) if source == "api" else {}
        event_num = int(_number(event.get("eventNum", count)) or count)
        units = Utf16Map(doc)
        unit_pos = 0
        pos = 0
        for op in _delta_ops(event["textDelta"], where):
            if "retain" in op:
                unit_pos += int(op["retain"])  # type: ignore[arg-type]
                pos = units.to_code_point(unit_pos)
            elif "delete" in op:
                end = units.to_code_point(unit_pos + int(op["delete"]))  # type: ignore[arg-type]
                if end > len(doc):
                    raise ImportFailed(f"{where}: deletes past the end of the text")
                edits.append(LogEdit(pos, end - pos, "", source, when, event_num, params))
                doc = doc[:pos] + doc[end:]
                units = Utf16Map(doc)
            elif "insert" in op:
                inserted = op["insert"]
                if not isinstance(inserted, str):
                    continue  # an embed (image, formula): no text to record
                if pos > len(doc):
                    raise ImportFailed(f"{where}: inserts past the end of the text")
                edits.append(LogEdit(pos, 0, inserted, source, when, event_num, params))
                doc = doc[:pos] + inserted + doc[pos:]
                pos += len(inserted)
                units = Utf16Map(doc)
                unit_pos = units.to_utf16(pos)
    if prompt is None:
        raise ImportFailed(f"{path} is not a CoAuthor session log (no system-initialize event)")
    return ParsedSession(path, _session_id(path), digest, prompt, start_time, edits, doc, count)
