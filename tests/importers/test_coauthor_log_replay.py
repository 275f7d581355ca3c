"""The CoAuthor log replay (chunked text, UTF-16 positions, streamed lines) against a plain
reference: the whole text as one ``str`` and a fresh ``Utf16Map`` for every operation."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.core.textpos import Utf16Map
from coauthor.importers import coauthor_log
from coauthor.importers.coauthor_log import parse_session_log
from coauthor.importers.errors import ImportFailed

ALPHABET = "ab \n\u00e9\u4e2d\U0001f600\U00010000"
Edit = tuple[int, int, str]


def _reference(doc: str, events: list[list[dict]]) -> tuple[str, list[Edit]] | None:
    """Replay the ops the simple way; None when an op does not apply."""
    edits: list[Edit] = []
    for ops in events:
        units = Utf16Map(doc)
        unit_pos = pos = 0
        for op in ops:
            if "retain" in op:
                unit_pos += op["retain"]
                if unit_pos > units.to_utf16(len(doc)):
                    return None
                pos = units.to_code_point(unit_pos)
            elif "delete" in op:
                end_unit = unit_pos + op["delete"]
                if end_unit > units.to_utf16(len(doc)):
                    return None
                end = units.to_code_point(end_unit)
                if end > pos:
                    edits.append((pos, end - pos, ""))
                    doc = doc[:pos] + doc[end:]
                    units = Utf16Map(doc)
            else:
                edits.append((pos, 0, op["insert"]))
                doc = doc[:pos] + op["insert"] + doc[pos:]
                pos += len(op["insert"])
                units = Utf16Map(doc)
                unit_pos = units.to_utf16(pos)
    return doc, edits


_ops = st.lists(
    st.one_of(
        st.builds(lambda n: {"retain": n}, st.integers(0, 40)),
        st.builds(lambda n: {"delete": n}, st.integers(1, 8)),
        st.builds(lambda t: {"insert": t}, st.text(ALPHABET, min_size=1, max_size=12)),
    ),
    min_size=1,
    max_size=4,
)


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunks of a few characters, so that edits cross chunk boundaries all the time.
    monkeypatch.setattr(coauthor_log, "_DOC_CHUNK", 3)


@given(
    prompt=st.text(ALPHABET, max_size=30),
    events=st.lists(_ops, min_size=1, max_size=20),
    compressed=st.booleans(),
)
def test_replay_matches_the_plain_reference(
    tmp_path_factory: pytest.TempPathFactory,
    prompt: str,
    events: list[list[dict]],
    compressed: bool,
) -> None:
    lines = [json.dumps({"eventName": "system-initialize", "currentDoc": prompt})]
    lines += [json.dumps({"eventName": "text-insert", "textDelta": {"ops": ops}}) for ops in events]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    folder = tmp_path_factory.mktemp("log")
    path = folder / ("s.jsonl.gz" if compressed else "s.jsonl")
    path.write_bytes(gzip.compress(data) if compressed else data)

    expected = _reference(prompt, events)
    if expected is None:
        with pytest.raises(ImportFailed, match="past the end of the text"):
            parse_session_log(path)
        return
    parsed = parse_session_log(path)
    assert parsed.final_text == expected[0]
    assert [(e.pos, e.delete, e.text) for e in parsed.edits] == expected[1]
    assert parsed.event_count == len(lines)


def test_lines_are_streamed_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reads of 7 bytes: every line spans several reads, blank runs too.
    monkeypatch.setattr(coauthor_log, "_CHUNK_BYTES", 7)
    init = json.dumps({"eventName": "system-initialize", "currentDoc": "ab"})
    insert = json.dumps({"eventName": "text-insert", "textDelta": {"ops": [{"insert": "x"}]}})
    path = tmp_path / "s.jsonl"
    path.write_text(f"\n\n{init}\n\n \n{insert}\r\n\n{insert}", encoding="utf-8")
    parsed = parse_session_log(path)
    assert parsed.final_text == "xxab"
    assert parsed.event_count == 3
    path.write_text(f"{init}\n\n\n{{oops\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"line 4 is not valid JSON"):
        parse_session_log(path)


def test_a_line_over_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coauthor_log, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(coauthor_log, "_CHUNK_BYTES", 16)
    init = json.dumps({"eventName": "system-initialize", "currentDoc": "x" * 20})
    path = tmp_path / "s.jsonl"
    path.write_text(f"{init}\n\n" + "y" * 101 + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"line 3 is longer than"):
        parse_session_log(path)
    path.write_text(f"{init}\n" + "y" * 100, encoding="utf-8")  # at the limit: read, then parsed
    with pytest.raises(ImportFailed, match=r"line 2 is not valid JSON"):
        parse_session_log(path)
