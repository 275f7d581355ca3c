"""Continue as a plain completion (``/v1/completions``), against the real loopback server.

The text before the cursor is the prompt; what comes back ends at a paragraph end, loses any
echo of the prompt, and ends at a sentence end when the token limit cut it. Failures are
handled as on the chat path; instructions (rewrite, brainstorm) stay on chat; a server without
plain completions, and OpenAI, get chat. The record says exactly what was sent.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from pathlib import Path

import pytest
from chat_server import DEFAULT_REPLY, Behaviour, ChatServer

from coauthor.ai.continuation import (
    COMMENTARY,
    Continuation,
    commentary,
    ends_a_sentence,
    prose_faults,
    repeats_itself,
)
from coauthor.ai.errors import FailureKind
from coauthor.ai.prompts import Mode, Request, build_request
from coauthor.ai.service import GenerationRun, ProviderConfig, ProviderKind, Providers, generate
from coauthor.core.generation import Outcome

BEFORE = (
    "The harbour lay still under the moon. Nobody in the town had seen the ship come in, "
    "and nobody would say who had rowed ashore."
)
ECHO = " Nobody in the town had seen the ship come in, and nobody would say who had rowed ashore."
NOVEL = Path(__file__).resolve().parents[2] / "data" / "pride_and_prejudice.txt"


def providers_for(server: ChatServer, kind: ProviderKind = ProviderKind.COMPATIBLE) -> Providers:
    config = ProviderConfig(kind=kind, base_url=server.url, model="test-model", timeout=3.0)
    return Providers(config)


def continue_request(before: str = BEFORE, **options: object) -> Request:
    settings: dict[str, object] = {"temperature": 0.3, "max_tokens": 50}
    settings.update(options)
    return build_request(Mode.CONTINUE, before=before, **settings)  # type: ignore[arg-type]


def run_generate(
    providers: Providers, request: Request, deltas: list[str] | None = None, **kwargs: object
) -> GenerationRun:
    ids = (f"g{n}" for n in itertools.count(1))
    ticks = itertools.count(1000, 10)
    try:
        return generate(
            providers,
            request,
            new_id=lambda: next(ids),
            clock=lambda: next(ticks),
            chapter_id=3,
            on_delta=(lambda _i, text: deltas.append(text)) if deltas is not None else None,
            **kwargs,  # type: ignore[arg-type]
        )
    finally:
        providers.close()


# -- the request and its record -------------------------------------------------------------


def test_continue_is_a_plain_completion_and_the_record_says_what_was_sent(
    chat_server: ChatServer,
) -> None:
    request = continue_request(seed=7)
    deltas: list[str] = []
    run = run_generate(providers_for(chat_server), request, deltas)
    assert run.error is None
    [sent] = chat_server.plain
    assert chat_server.completions == []  # no chat request
    assert sent.body["prompt"] == BEFORE
    assert sent.body["model"] == "test-model"
    assert sent.body["stream"] is True
    assert sent.body["temperature"] == 0.3
    assert sent.body["max_tokens"] == 50
    assert sent.body["seed"] == 7
    [record] = run.records
    assert record.outcome is Outcome.COMPLETE
    assert record.output == DEFAULT_REPLY
    assert "".join(deltas) == DEFAULT_REPLY
    assert record.messages == [{"role": "prompt", "content": BEFORE}]
    assert record.parameters["endpoint"] == "completions"
    assert record.parameters["mode"] == "continue"
    assert record.parameters["seed"] == 7
    assert record.parameters["max_tokens"] == 50
    assert record.provider == "compatible"
    assert record.chapter_id == 3
    assert isinstance(record.timing["first_token_s"], float)


def test_a_trailing_space_is_not_sent_and_the_output_does_not_double_it(
    chat_server: ChatServer,
) -> None:
    chat_server.script(Behaviour(text=" Then a bell rang."))
    run = run_generate(providers_for(chat_server), continue_request(BEFORE + " "))
    [sent] = chat_server.plain
    assert sent.body["prompt"] == BEFORE
    assert run.records[0].messages == [{"role": "prompt", "content": BEFORE}]
    assert run.records[0].output == "Then a bell rang."


def test_instructions_stay_on_chat(chat_server: ChatServer) -> None:
    rewrite = build_request(Mode.REWRITE, before=BEFORE, selection="It rained.", instruction="x")
    brainstorm = build_request(Mode.BRAINSTORM, before=BEFORE, alternatives=2)
    assert rewrite.prompt is None
    assert brainstorm.prompt is None
    providers = providers_for(chat_server)
    for request in (rewrite, brainstorm):
        run = run_generate(providers, request)
        assert all("endpoint" not in r.parameters for r in run.records)
        assert all(r.messages == request.messages for r in run.records)
    assert chat_server.plain == []
    assert len(chat_server.completions) == 3


def test_no_text_before_the_cursor_goes_through_chat(chat_server: ChatServer) -> None:
    request = continue_request("   ")
    assert request.prompt is None
    run_generate(providers_for(chat_server), request)
    assert chat_server.plain == []
    assert len(chat_server.completions) == 1


def test_openai_gets_chat(chat_server: ChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-key-1234")
    run = run_generate(providers_for(chat_server, ProviderKind.OPENAI), continue_request())
    assert run.error is None
    assert chat_server.plain == []
    [sent] = chat_server.completions
    assert run.records[0].messages == sent.body["messages"]
    assert "endpoint" not in run.records[0].parameters


def test_a_server_without_plain_completions_gets_chat_from_then_on() -> None:
    with ChatServer(plain_completions=False) as server:
        providers = providers_for(server)
        request = continue_request()
        notes: list[str] = []
        run = run_generate(providers, request, on_note=notes.append)
        assert run.error is None
        [record] = run.records
        assert record.outcome is Outcome.COMPLETE
        assert record.output == DEFAULT_REPLY
        assert record.messages == request.messages  # what was really sent: the chat messages
        assert "endpoint" not in record.parameters
        assert any("no plain completions" in note and "404" in note for note in notes)
        assert notes == run.notes
        assert len(server.plain) == 1
        assert len(server.completions) == 1
        # The next Continue goes straight to chat.
        again = run_generate(providers, request)
        assert again.records[0].output == DEFAULT_REPLY
        assert len(server.plain) == 1
        assert len(server.completions) == 2
        assert not server.errors


# -- shaping the continuation -----------------------------------------------------------------


def test_it_stops_at_a_paragraph_end_and_closes_the_stream(chat_server: ChatServer) -> None:
    pieces = (" Then a bell", " rang.", "\n\n", "Chapter Two", *(f" word{n}" for n in range(20)))
    chat_server.script(Behaviour(pieces=pieces, chunk_delay=0.1))
    deltas: list[str] = []
    started = time.perf_counter()
    run = run_generate(providers_for(chat_server), continue_request(), deltas)
    elapsed = time.perf_counter() - started
    [record] = run.records
    assert record.outcome is Outcome.COMPLETE
    assert run.error is None
    assert record.output == " Then a bell rang."
    assert "".join(deltas) == record.output
    assert record.timing["stopped_at"] == "paragraph end"
    assert isinstance(record.timing["cut_chars"], int)
    assert record.timing["cut_chars"] >= 2
    assert elapsed < 1.5  # it did not read the 20 pieces after the paragraph end (2.4 s)


def test_a_leading_blank_line_starts_a_new_paragraph(chat_server: ChatServer) -> None:
    chat_server.script(Behaviour(pieces=("\n\n", "Morning came.", " Gulls cried.", "\n", "No")))
    run = run_generate(providers_for(chat_server), continue_request())
    assert run.records[0].output == "\n\nMorning came. Gulls cried."


def test_an_echo_of_the_prompt_at_the_start_is_removed(chat_server: ChatServer) -> None:
    pieces = tuple(re.findall(r"\s*\S+", ECHO + " Then a bell rang across the water."))
    chat_server.script(Behaviour(pieces=pieces))
    deltas: list[str] = []
    run = run_generate(providers_for(chat_server), continue_request(), deltas)
    [record] = run.records
    assert record.output == " Then a bell rang across the water."
    assert "".join(deltas) == record.output  # the preview never showed the echo
    assert record.timing["echo_removed_chars"] == len(ECHO)
    assert prose_faults(BEFORE, record.output) == []


def test_a_later_echo_ends_the_continuation(chat_server: ChatServer) -> None:
    text = " A bell rang twice." + ECHO + " And so on."
    chat_server.script(Behaviour(pieces=tuple(re.findall(r"\s*\S+", text))))
    deltas: list[str] = []
    run = run_generate(providers_for(chat_server), continue_request(), deltas)
    [record] = run.records
    assert record.output == " A bell rang twice."
    assert "".join(deltas) == record.output
    assert record.timing["stopped_at"] == "echo"


def test_at_the_token_limit_it_ends_at_the_last_sentence_end(chat_server: ChatServer) -> None:
    chat_server.script(Behaviour(text=" A bell rang. The sailors ran to the", finish="length"))
    run = run_generate(providers_for(chat_server), continue_request())
    [record] = run.records
    assert record.outcome is Outcome.COMPLETE
    assert record.output == " A bell rang."
    assert record.timing["stopped_at"] == "sentence end"
    assert ends_a_sentence(record.output)


def test_a_finished_reply_is_kept_whole(chat_server: ChatServer) -> None:
    chat_server.script(Behaviour(text=" A bell rang. The sailors ran to the", finish="stop"))
    run = run_generate(providers_for(chat_server), continue_request())
    assert run.records[0].output == " A bell rang. The sailors ran to the"
    assert "stopped_at" not in run.records[0].timing


# -- failures, as on the chat path -------------------------------------------------------------


@pytest.mark.parametrize("how", ["disconnect", "truncate"])
def test_a_stream_that_breaks_midway_keeps_what_arrived(chat_server: ChatServer, how: str) -> None:
    chat_server.script(how)
    deltas: list[str] = []
    run = run_generate(providers_for(chat_server), continue_request(), deltas)
    [record] = run.records
    assert record.outcome is Outcome.CANCELLED
    assert record.output
    assert DEFAULT_REPLY.startswith(record.output)
    assert record.output != DEFAULT_REPLY
    assert "".join(deltas).rstrip() == record.output
    assert record.messages == [{"role": "prompt", "content": BEFORE}]
    assert run.error is not None
    assert run.error.kind is FailureKind.DISCONNECTED
    assert "not inserted" in record.error
    assert len(chat_server.plain) == 1  # text arrived: never retried
    assert chat_server.completions == []  # nor asked again through chat


def test_429_then_ok_is_retried_and_recorded(chat_server: ChatServer) -> None:
    chat_server.script("429", "503")
    waits: list[tuple[float, int, str]] = []
    run = run_generate(
        providers_for(chat_server), continue_request(), on_wait=lambda *a: waits.append(a)
    )
    [record] = run.records
    assert record.outcome is Outcome.COMPLETE
    assert record.output == DEFAULT_REPLY
    assert [w[2] for w in waits] == ["rate_limit", "server"]
    assert len(record.timing["retries"]) == 2  # type: ignore[arg-type]
    assert [r.behaviour for r in chat_server.plain] == ["429", "503", "ok"]


def test_a_malformed_stream_is_a_failed_record(chat_server: ChatServer) -> None:
    chat_server.script("malformed")
    run = run_generate(providers_for(chat_server), continue_request())
    [record] = run.records
    assert record.outcome is Outcome.FAILED
    assert record.output == ""
    assert run.error is not None
    assert run.error.kind is FailureKind.MALFORMED


def test_context_overflow_trims_the_prompt_and_asks_again(chat_server: ChatServer) -> None:
    before = "\n\n".join(f"Paragraph {n}. The tide came in over the stones." for n in range(40))
    chat_server.script("context")
    run = run_generate(providers_for(chat_server), continue_request(before))
    first, second = chat_server.plain
    assert len(second.body["prompt"]) < len(first.body["prompt"])
    assert before.endswith(second.body["prompt"])
    [record] = run.records
    assert record.outcome is Outcome.COMPLETE
    assert record.messages == [{"role": "prompt", "content": second.body["prompt"]}]
    trimmed = record.parameters["context_trimmed_chars"]
    assert isinstance(trimmed, int)
    assert trimmed == len(before) - len(second.body["prompt"])


def test_cancel_mid_stream_keeps_a_cancelled_record(chat_server: ChatServer) -> None:
    pieces = (*(f" word{n}" for n in range(30)), ".")
    chat_server.script(Behaviour(pieces=pieces, chunk_delay=0.05))
    cancel = threading.Event()

    class Shown(list[str]):
        def append(self, text: str) -> None:
            super().append(text)
            cancel.set()

    shown = Shown()
    run = run_generate(providers_for(chat_server), continue_request(), shown, cancel=cancel)
    [record] = run.records
    assert record.outcome is Outcome.CANCELLED
    assert record.output
    assert record.output.startswith(" word0 word1")
    assert len(record.output) < len("".join(pieces)) // 2
    assert "".join(shown) == record.output
    assert run.error is None  # stopped by the author


# -- Continuation and the check, without a server ------------------------------------------------


def _shaped(prompt: str, pieces: list[str], **close: bool) -> tuple[str, str]:
    shape = Continuation(prompt)
    shown = []
    for piece in pieces:
        shown.append(shape.feed(piece))
        if shape.done:
            break
    final = shape.close(**close)
    shown.append(shape.rest())
    return final, "".join(shown)


def test_an_echo_split_at_any_point_is_removed() -> None:
    text = ECHO + " Then a bell rang."
    for cut in range(1, len(text)):
        final, shown = _shaped(BEFORE, [text[:cut], text[cut:]])
        assert final == " Then a bell rang.", cut
        assert shown == final, cut


def test_after_a_space_no_space_is_doubled_even_after_an_echo() -> None:
    for text in (" Then a bell rang.", ECHO + " Then a bell rang."):
        shape = Continuation(BEFORE, after_space=True)
        shown = shape.feed(text)
        assert shape.close() == "Then a bell rang."
        assert shown + shape.rest() == "Then a bell rang."


def test_a_short_repeat_is_not_an_echo() -> None:
    final, _ = _shaped(BEFORE, [" Nobody in the town", " slept that night."])
    assert final == " Nobody in the town slept that night."


def test_an_output_that_is_all_echo_is_empty() -> None:
    final, shown = _shaped(BEFORE, [ECHO])
    assert final == ""
    assert shown == ""


def test_the_check_finds_each_fault() -> None:
    assert prose_faults(BEFORE, " Then a bell rang.") == []
    assert prose_faults(BEFORE, "  ") == ["empty"]
    assert prose_faults(BEFORE, "The use of the word 'moon' is poignant.") == ["commentary"]
    assert prose_faults(BEFORE, "Here is a continuation of the text:") == [
        "commentary",
        "unfinished",
    ]
    assert prose_faults(BEFORE, "He said nobody in the town had seen the ship.") == [
        "repeats the prompt"
    ]
    assert prose_faults(BEFORE, " Then a bell rang and") == ["unfinished"]
    assert ends_a_sentence('"Who is there?" she asked.')
    assert ends_a_sentence('She asked, "Who is there?"')
    assert not ends_a_sentence("Mr. Darcy")
    assert not ends_a_sentence("They had all taken their seats, Mr.")
    assert repeats_itself("one two three four five six, one two three four five six.")
    assert not repeats_itself(BEFORE)


def test_no_commentary_phrase_occurs_in_the_novel() -> None:
    """The phrases flag talk about the text, not prose: Austen's novel uses none of them."""
    text = NOVEL.read_text(encoding="utf-8")
    body = text[text.index("Chapter 1") : text.index("End of the Project Gutenberg")]
    assert len(COMMENTARY) >= 30
    assert commentary(" ".join(body.split())) == []
