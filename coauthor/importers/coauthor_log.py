"""Import a CoAuthor writing-session log (Lee, Liang and Yang, CHI 2022) as one chapter.

A log is one JSON event per line (``.jsonl``, or gzipped ``.jsonl.gz``). The chapter replays
every text event in order, with its original time: the starting text (the study's prompt) is
``imported``, edits by the writer are ``human``, and text inserted from the model
(``eventSource: api``) is ``ai``, with one pending generation record per accepted suggestion.
Quill positions count UTF-16 code units; they are converted to code points here.

A log Coauthor exported (``coauthor export --format coauthor-log``, ``publish/research_log.py``)
is read the same way, with its own fields: the chapter title and markup of its header
(``coauthorExport``), ``coauthorOrigin`` of a ``user`` insertion (``pasted`` and ``imported``
text come back as such; anything else is typed), ``coauthorGeneration`` (the insertions of one
generation make one generation record), ``currentModel`` and ``coauthorParameters``. A log
exported with ``--no-text`` holds lengths, not text, and is refused in one sentence.

The file is streamed (gzip or plain) in chunks of a megabyte and hashed as it is read: memory
follows the session's text and edits, not the file's size. Runs of blank lines cost a scan, not
a step per line, and a line over ``MAX_LINE_BYTES`` (64 MB) is refused, naming it. Every field
the replay relies on is checked (positions within the text, finite whole numbers for times and
event numbers), so a bad event is one sentence naming its line.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import io
import json
import math
import re
import zlib
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from coauthor.importers.errors import ImportFailed

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "COAUTHOR_MODEL",
    "COAUTHOR_PROVIDER",
    "MAX_LINE_BYTES",
    "EditList",
    "LogEdit",
    "ParsedSession",
    "parse_session_log",
]

COAUTHOR_MODEL = "GPT-3 (CoAuthor study)"
COAUTHOR_PROVIDER = "coauthor-study"

MAX_LINE_BYTES = 64 << 20
"""The longest line (one event) a log may have; a longer one is refused, naming its line."""

_CHUNK_BYTES = 1 << 20  # read and decompressed this much at a time
_MAX_LITERAL = 1 << 20  # a textDelta string longer than this must be JSON, not a literal
_DOC_CHUNK = 2048  # code points per chunk of the replayed text
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_NONBLANK = re.compile(rb"[^ \t\r\n\x0b\x0c]")
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # what SQLite stores as an integer
_NO_PARAMETERS: dict[str, float] = {}  # shared by the writer's edits; never changed
_SOURCES = ("user", "api", "pasted", "imported")  # an edit's source, by its code in EditList
_USER_ORIGINS = ("pasted", "imported")  # what a Coauthor export's ``coauthorOrigin`` may lower
_HEADER = "coauthorExport"  # Coauthor's export: its header on system-initialize
_LENGTH_OP = "insertLength"  # an insertion whose text --no-text left out

_PARAMETER_FIELDS = {
    "currentTemperature": "temperature",
    "currentMaxToken": "max_tokens",
    "currentTopP": "top_p",
    "currentPresencePenalty": "presence_penalty",
    "currentFrequencyPenalty": "frequency_penalty",
    "currentN": "n",
}


@dataclass(slots=True)
class LogEdit:
    """One edit in code points: delete ``delete`` characters at ``pos``, then insert ``text``."""

    pos: int
    delete: int
    text: str
    source: str  # "user" or "api"; "pasted" or "imported" in a log Coauthor exported
    time: int
    event_num: int
    parameters: dict[str, float] = field(default_factory=dict)
    generation: str = ""  # the exporting book's generation id (coauthorGeneration), if any
    model: str = ""  # the model named by currentModel, if any


class EditList:
    """The session's edits in order, kept compactly (a few machine words each, and the
    inserted text): a long session has hundreds of thousands of one-character edits."""

    __slots__ = (
        "_deletes",
        "_generations",
        "_nums",
        "_params",
        "_positions",
        "_sources",
        "_texts",
        "_times",
    )

    def __init__(self) -> None:
        self._positions = array("q")
        self._deletes = array("q")
        self._times = array("q")
        self._nums = array("q")
        self._sources = bytearray()  # the index of each edit's source in _SOURCES
        self._texts: list[str] = []
        self._params: dict[int, dict[str, float]] = {}  # by index, where there are any
        self._generations: dict[int, tuple[str, str]] = {}  # (generation, model), where given

    def append(self, edit: LogEdit) -> None:
        if edit.parameters:
            self._params[len(self._texts)] = edit.parameters
        if edit.generation or edit.model:
            self._generations[len(self._texts)] = (edit.generation, edit.model)
        self._positions.append(edit.pos)
        self._deletes.append(edit.delete)
        self._times.append(edit.time)
        self._nums.append(edit.event_num)
        self._sources.append(_SOURCES.index(edit.source))
        self._texts.append(edit.text)

    def __len__(self) -> int:
        return len(self._texts)

    def __iter__(self) -> Iterator[LogEdit]:
        for i, text in enumerate(self._texts):
            generation, model = self._generations.get(i, ("", ""))
            yield LogEdit(
                self._positions[i],
                self._deletes[i],
                text,
                _SOURCES[self._sources[i]],
                self._times[i],
                self._nums[i],
                self._params.get(i, _NO_PARAMETERS),
                generation,
                model,
            )


@dataclass
class ParsedSession:
    source: Path
    session_id: str
    sha256: str
    prompt: str
    start_time: int
    edits: EditList
    final_text: str
    event_count: int
    title: str = ""
    """The chapter title a Coauthor export's header gives (empty: the session id)."""
    markup: str = "plain"
    """How the chapter is read: plain, or what a Coauthor export's header says."""


def _number(value: object) -> float | None:
    """A parameter's number, or None when it is not a finite number."""
    try:
        number = float(str(value))
    except ValueError:
        return None
    if not math.isfinite(number):
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


def _exported_parameters(event: dict[str, object]) -> dict[str, float]:
    """A Coauthor export's ``coauthorParameters`` (its scalar values), over the study's fields."""
    params = _parameters(event)
    extra = event.get("coauthorParameters")
    if isinstance(extra, dict):
        for key, value in extra.items():
            scalar = isinstance(value, str | int | bool) or (
                isinstance(value, float) and math.isfinite(value)
            )
            if isinstance(key, str) and scalar:
                params[key] = value  # type: ignore[assignment]
    return params


def _text_field(event: dict[str, object], key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


def _integer(event: dict[str, object], key: str, default: int, where: str) -> int:
    """An event's integer field (a time or a number); missing or empty gives ``default``."""
    value = event.get(key)
    if value is None or value == "":
        return default
    try:
        number = float(str(value)) if not isinstance(value, bool) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not _INT_MIN <= number <= _INT_MAX:
        raise ImportFailed(f"{where}: {key} {_shown(value)} is not a finite number")
    return int(number)


def _shown(value: object) -> str:
    """A field's value as a message quotes it: short, and only if it is a string or number."""
    if isinstance(value, str):
        return json.dumps(value[:40] + ("..." if len(value) > 40 else ""))
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = repr(value)
        return text if len(text) <= 40 else text[:40] + "..."
    return f"(a JSON {'boolean' if isinstance(value, bool) else type(value).__name__})"


def _count(op: dict[str, object], key: str, where: str) -> int:
    """The number of UTF-16 code units of a delta's ``retain`` or ``delete``."""
    value = op[key]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ImportFailed(
            f"{where}: textDelta has a {key} of {_shown(value)}, not a count of characters"
        )
    return value


def _delta_ops(raw: object, where: str) -> list[object]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            if len(raw) > _MAX_LITERAL:
                raise ImportFailed(f"{where}: textDelta is not JSON") from None
            try:
                raw = ast.literal_eval(raw)
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                raise ImportFailed(f"{where}: textDelta is neither JSON nor a literal") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("ops"), list):
        raise ImportFailed(f"{where}: textDelta has no list of ops")
    return raw["ops"]


def _session_id(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return name


class _HashingReader(io.RawIOBase):
    """A file's bytes as they are read, hashed on the way (the import record's sha256)."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer)
        n = self._raw.readinto(view)
        self.sha256.update(view[:n])
        return n


def _nonblank_lines(stream: BinaryIO, path: Path) -> Iterator[tuple[int, bytes]]:
    """Each line that is not blank, with its number, read in chunks of bounded size.

    Runs of blank lines are skipped without a Python step per line (a gzip of newlines costs
    a scan), and a line over ``MAX_LINE_BYTES`` is refused as soon as it is that long.
    """
    parts: list[bytes] = []  # the pieces of a line that goes on in the next chunk
    size = 0
    number = 1  # the number of the line the scan is in
    while chunk := stream.read(_CHUNK_BYTES):
        pos = 0
        end = len(chunk)
        while pos < end:
            if not parts:
                match = _NONBLANK.search(chunk, pos)
                if match is None:
                    number += chunk.count(b"\n", pos)
                    break
                number += chunk.count(b"\n", pos, match.start())
                pos = match.start()
            newline = chunk.find(b"\n", pos)
            stop = end if newline < 0 else newline
            parts.append(chunk[pos:stop])
            size += stop - pos
            if size > MAX_LINE_BYTES:
                raise ImportFailed(
                    f"{path} line {number} is longer than {MAX_LINE_BYTES >> 20} MB, "
                    "far more than any CoAuthor event; the file is damaged or not a session log"
                )
            if newline < 0:
                break
            line = parts[0] if len(parts) == 1 else b"".join(parts)
            parts = []
            size = 0
            yield number, line
            number += 1
            pos = newline + 1
    if parts:
        yield number, b"".join(parts)


@contextmanager
def _open_log(path: Path) -> Iterator[tuple[BinaryIO, _HashingReader]]:
    """The log's decompressed bytes (gzip or plain) and the reader hashing its raw bytes."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror or exc}") from exc
    with raw:
        hashing = _HashingReader(raw)
        buffered = io.BufferedReader(hashing, _CHUNK_BYTES)
        stream: BinaryIO = buffered
        if buffered.peek(2)[:2] == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
        try:
            yield stream, hashing
            while buffered.read(_CHUNK_BYTES):  # the rest (gzip padding), for the hash
                pass
        except (OSError, EOFError, zlib.error) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise ImportFailed(f"cannot read {path}: {exc.strerror or exc}") from exc
            raise ImportFailed(f"{path} is a damaged gzip file ({exc})") from None


class _Doc:
    """The session's text while it replays: chunks of code points, each with its length in
    UTF-16 code units, and a cursor at the chunk of the last edit, so that an edit costs the
    same in a long text as in a short one, with characters outside the BMP or without."""

    __slots__ = ("_at", "_at_pos", "_at_unit", "_chunks", "_units", "length", "units")

    def __init__(self, text: str) -> None:
        self._chunks = [text[i : i + _DOC_CHUNK] for i in range(0, len(text), _DOC_CHUNK)] or [""]
        self._units = [_utf16_length(chunk) for chunk in self._chunks]
        self.length = len(text)
        self.units = sum(self._units)
        self._at = self._at_pos = self._at_unit = 0  # the cursor: a chunk and where it starts

    def text(self) -> str:
        return "".join(self._chunks)

    def _step(self, forward: bool) -> None:
        if forward:
            self._at_pos += len(self._chunks[self._at])
            self._at_unit += self._units[self._at]
            self._at += 1
        else:
            self._at -= 1
            self._at_pos -= len(self._chunks[self._at])
            self._at_unit -= self._units[self._at]

    def _seek(self, pos: int) -> None:
        """Put the cursor on a chunk holding code point position ``pos`` (0 <= pos <= length)."""
        while pos < self._at_pos:
            self._step(False)
        last = len(self._chunks) - 1
        while self._at < last and pos > self._at_pos + len(self._chunks[self._at]):
            self._step(True)

    def to_code_point(self, unit: int) -> int:
        """The position of UTF-16 offset ``unit`` (0 <= unit <= units), never inside a pair."""
        while unit < self._at_unit:
            self._step(False)
        last = len(self._chunks) - 1
        while self._at < last and unit > self._at_unit + self._units[self._at]:
            self._step(True)
        chunk = self._chunks[self._at]
        local = unit - self._at_unit
        if self._units[self._at] == len(chunk):
            return self._at_pos + local
        before = 0  # astral characters before the one looked at
        for match in _ASTRAL.finditer(chunk):
            start = match.start()
            if local <= start + before:
                break
            if local == start + before + 1:
                return self._at_pos + start  # inside a surrogate pair: the character's start
            before += 1
        return self._at_pos + local - before

    def to_utf16(self, pos: int) -> int:
        self._seek(pos)
        chunk = self._chunks[self._at]
        local = pos - self._at_pos
        if self._units[self._at] == len(chunk):
            return self._at_unit + local
        return self._at_unit + local + len(_ASTRAL.findall(chunk, 0, local))

    def insert(self, pos: int, text: str) -> None:
        self._seek(pos)
        at = self._at
        chunk = self._chunks[at]
        off = pos - self._at_pos
        joined = chunk[:off] + text + chunk[off:]
        if len(joined) <= 2 * _DOC_CHUNK:
            self._chunks[at] = joined
            added = _utf16_length(text)
            self._units[at] += added
        else:
            pieces = [joined[i : i + _DOC_CHUNK] for i in range(0, len(joined), _DOC_CHUNK)]
            units = [_utf16_length(piece) for piece in pieces]
            added = sum(units) - self._units[at]
            self._chunks[at : at + 1] = pieces
            self._units[at : at + 1] = units
        self.length += len(text)
        self.units += added

    def delete(self, pos: int, end: int) -> None:
        self._seek(pos)
        i = self._at
        off = pos - self._at_pos
        left = end - pos
        emptied = []
        while left:
            chunk = self._chunks[i]
            take = min(left, len(chunk) - off)
            if take:
                self._chunks[i] = chunk[:off] + chunk[off + take :]
                removed = _utf16_length(chunk[off : off + take])
                self._units[i] -= removed
                self.units -= removed
                left -= take
                if not self._chunks[i] and i != self._at:
                    emptied.append(i)
            i += 1
            off = 0
        for i in reversed(emptied):  # all after the cursor's chunk, which stays
            del self._chunks[i]
            del self._units[i]
        self.length -= end - pos


def _utf16_length(text: str) -> int:
    return len(text) if text.isascii() else len(text) + len(_ASTRAL.findall(text))


def _event(line: bytes, number: int, path: Path) -> dict[str, object]:
    where = f"{path} line {number}"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            f"{where} is not valid UTF-8: byte 0x{line[exc.start]:02x} at column {exc.start + 1}"
        ) from None
    if number == 1:
        text = text.removeprefix("\ufeff")
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):
        raise ImportFailed(f"{where} is not valid JSON") from None
    if not isinstance(event, dict) or "eventName" not in event:
        raise ImportFailed(f"{where} is not a CoAuthor event (it has no eventName)")
    return event


def parse_session_log(path: Path) -> ParsedSession:
    """Read and replay a session log, event by event, checking every event applies.

    The file is streamed: memory follows the session's text and its edits, not the file's size.
    """
    doc: _Doc | None = None
    prompt = ""
    title = ""
    markup = "plain"
    start_time = 0
    edits = EditList()
    count = 0
    with _open_log(path) as (stream, hashing):
        for number, line in _nonblank_lines(stream, path):
            where = f"{path} line {number}"
            event = _event(line, number, path)
            del line
            count += 1
            name = event["eventName"]
            when = _integer(event, "eventTimestamp", 0, where)
            if name == "system-initialize":
                if doc is not None:
                    raise ImportFailed(f"{where}: the session is initialised a second time")
                header = event.get(_HEADER)
                if isinstance(header, dict):
                    if header.get("text") is False:
                        raise ImportFailed(
                            f"{path} was exported with --no-text: it holds the lengths of the "
                            "edits but not their text, so there is no text to import"
                        )
                    title = _text_field(header, "title")
                    if header.get("markup") in ("markdown", "plain"):
                        markup = str(header["markup"])
                prompt = str(event.get("currentDoc") or "")
                doc = _Doc(prompt)
                start_time = when
                continue
            if name not in ("text-insert", "text-delete") or not event.get("textDelta"):
                continue
            if doc is None:
                raise ImportFailed(f"{where}: text changes before the session was initialised")
            source = "api" if event.get("eventSource") == "api" else "user"
            if source == "user" and event.get("coauthorOrigin") in _USER_ORIGINS:
                source = str(event["coauthorOrigin"])
            params = _exported_parameters(event) if source == "api" else _NO_PARAMETERS
            event_num = _integer(event, "eventNum", count, where)
            _replay(
                doc,
                _delta_ops(event["textDelta"], where),
                edits,
                where,
                source,
                when,
                event_num,
                params,
                _text_field(event, "coauthorGeneration") if source == "api" else "",
                _text_field(event, "currentModel") if source == "api" else "",
            )
        digest = hashing.sha256
        if doc is None:
            raise ImportFailed(f"{path} is not a CoAuthor session log (no system-initialize event)")
    return ParsedSession(
        path,
        _session_id(path),
        digest.hexdigest(),
        prompt,
        start_time,
        edits,
        doc.text(),
        count,
        title,
        markup,
    )


def _replay(
    doc: _Doc,
    ops: list[object],
    edits: EditList,
    where: str,
    source: str,
    when: int,
    event_num: int,
    params: dict[str, float],
    generation: str = "",
    model: str = "",
) -> None:
    """Apply one event's delta (Quill ops, in UTF-16 code units) to ``doc``, recording edits."""
    unit_pos = 0
    pos = 0
    for op in ops:
        if not isinstance(op, dict):
            raise ImportFailed(f"{where}: textDelta has an op that is not an object")
        if _LENGTH_OP in op:
            raise ImportFailed(
                f"{where}: the log was exported with --no-text (it holds the length of an "
                "insertion, not its text), so there is no text to import"
            )
        if "retain" in op:
            unit_pos += _count(op, "retain", where)
            if unit_pos > doc.units:
                raise ImportFailed(
                    f"{where}: textDelta retains past the end of the text "
                    f"({unit_pos} of {doc.units} UTF-16 units)"
                )
            pos = doc.to_code_point(unit_pos)
        elif "delete" in op:
            end_unit = unit_pos + _count(op, "delete", where)
            if end_unit > doc.units:
                raise ImportFailed(
                    f"{where}: textDelta deletes past the end of the text "
                    f"(to {end_unit} of {doc.units} UTF-16 units)"
                )
            end = doc.to_code_point(end_unit)
            if end > pos:
                edits.append(
                    LogEdit(pos, end - pos, "", source, when, event_num, params, generation, model)
                )
                doc.delete(pos, end)
        elif "insert" in op:
            inserted = op["insert"]
            if not isinstance(inserted, str):
                continue  # an embed (image, formula): no text to record
            if not inserted:
                continue
            edits.append(
                LogEdit(pos, 0, inserted, source, when, event_num, params, generation, model)
            )
            doc.insert(pos, inserted)
            pos += len(inserted)
            unit_pos = doc.to_utf16(pos)
