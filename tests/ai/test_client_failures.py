"""Every way a provider can fail, against a real loopback server through the openai SDK.

``ModelClient`` must turn each failure into a ``ProviderError`` of the right kind with a
sentence for the author, retry what is worth retrying (reporting each wait), and never lose
text that already arrived. ``generate`` must return a record for every outcome.
"""

from __future__ import annotations

import itertools
import threading
import time

import openai
import pytest
from chat_server import DEFAULT_REPLY, Behaviour, ChatServer, free_port

from coauthor.ai.client import ModelClient, StreamResult
from coauthor.ai.errors import FailureKind, ProviderError
from coauthor.ai.prompts import Mode, Request, build_request
from coauthor.ai.service import GenerationRun, ProviderConfig, ProviderKind, Providers, generate
from coauthor.core.generation import Outcome

MESSAGES = [
    {"role": "system", "content": "You are a co-writer."},
    {"role": "user", "content": "Continue: It was raining."},
]


def make_client(server: ChatServer, **options: float) -> ModelClient:
    settings: dict[str, float] = {"timeout": 3.0, "max_attempts": 3, "backoff": 0.01}
    settings.update(options)
    return ModelClient(
        server.url,
        "sk-test-key",
        "test-model",
        timeout=settings["timeout"],
        max_attempts=int(settings["max_attempts"]),
        backoff=settings["backoff"],
    )


def stream(client: ModelClient, **kwargs: object) -> StreamResult:
    try:
        return client.stream_chat(MESSAGES, max_tokens=50, **kwargs)  # type: ignore[arg-type]
    finally:
        client.close()


def providers_for(server_url: str, *, timeout: float = 3.0) -> Providers:
    config = ProviderConfig(
        kind=ProviderKind.COMPATIBLE, base_url=server_url, model="test-model", timeout=timeout
    )
    return Providers(config)


def continue_request(before: str = "It was raining on the harbour.") -> Request:
    """Continue through chat, as providers without plain completions get it (the plain
    completion path has its own tests, in test_completion.py)."""
    return build_request(Mode.CONTINUE, before=before, temperature=0.3, max_tokens=50).as_chat()


def run_generate(providers: Providers, request: Request, **kwargs: object) -> GenerationRun:
    ids = (f"g{n}" for n in itertools.count(1))
    ticks = itertools.count(1000, 10)
    return generate(
        providers,
        request,
        new_id=lambda: next(ids),
        clock=lambda: next(ticks),
        chapter_id=7,
        **kwargs,  # type: ignore[arg-type]
    )


class Waits:
    """Records the ``on_wait`` calls: (seconds, attempt, reason)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, int, str]] = []

    def __call__(self, wait: float, attempt: int, reason: str) -> None:
        self.calls.append((wait, attempt, reason))


# -- the scripted server itself ---------------------------------------------------------------


def test_server_speaks_openai_streamed_and_whole(chat_server: ChatServer) -> None:
    sdk = openai.OpenAI(base_url=chat_server.url, api_key="sk-test", max_retries=0, timeout=3)
    try:
        assert sorted(m.id for m in sdk.models.list()) == ["other-model", "test-model"]
        whole = sdk.chat.completions.create(model="test-model", messages=MESSAGES)  # type: ignore[arg-type]
        assert whole.choices[0].message.content == DEFAULT_REPLY
        chunks = list(
            sdk.chat.completions.create(model="test-model", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        )
    finally:
        sdk.close()
    assert len(chunks) >= 4
    assert all(c.object == "chat.completion.chunk" and c.model == "test-model" for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == DEFAULT_REPLY
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert chat_server.completions[-1].body["stream"] is True


# -- 401 ----------------------------------------------------------------------------------------


def test_401_is_an_auth_error_that_opens_settings(chat_server: ChatServer) -> None:
    chat_server.script("401")
    waits = Waits()
    with pytest.raises(ProviderError) as caught:
        stream(make_client(chat_server), on_wait=waits)
    error = caught.value
    assert error.kind is FailureKind.AUTH
    assert error.status == 401
    assert "key was refused" in str(error)
    assert error.opens_settings is True
    assert "sk-test-key" not in str(error)
    assert waits.calls == []  # a refused key is not retried
    assert len(chat_server.completions) == 1


def test_401_through_generate_is_a_failed_record(chat_server: ChatServer) -> None:
    chat_server.script("401")
    run = run_generate(providers_for(chat_server.url), continue_request())
    assert run.error is not None
    assert run.error.kind is FailureKind.AUTH
    [record] = run.records
    assert record.outcome is Outcome.FAILED
    assert record.output == ""
    assert "key was refused" in record.error


# -- 429 ----------------------------------------------------------------------------------------


def test_429_waits_then_succeeds(chat_server: ChatServer) -> None:
    chat_server.script(Behaviour("429", retry_after="0.05"), Behaviour("429", retry_after=None))
    waits = Waits()
    started = time.perf_counter()
    result = stream(make_client(chat_server, backoff=0.02, max_attempts=4), on_wait=waits)
    assert result.outcome is Outcome.COMPLETE
    assert result.text == DEFAULT_REPLY
    # The first wait is the server's Retry-After, the second the client's own backoff.
    assert waits.calls == [(0.05, 1, "rate_limit"), (0.04, 2, "rate_limit")]
    assert time.perf_counter() - started >= 0.09
    assert len(result.retries) == 2
    assert [r.behaviour for r in chat_server.completions] == ["429", "429", "ok"]


def test_only_429s_is_a_rate_limit_error_after_max_attempts(chat_server: ChatServer) -> None:
    chat_server.script("429", "429", "429", "429")
    waits = Waits()
    with pytest.raises(ProviderError) as caught:
        stream(make_client(chat_server, max_attempts=3), on_wait=waits)
    assert caught.value.kind is FailureKind.RATE_LIMIT
    assert caught.value.status == 429
    assert "3 tries" in str(caught.value)
    assert [call[1] for call in waits.calls] == [1, 2]
    assert len(chat_server.completions) == 3


def test_429_then_ok_through_generate_records_the_retry(chat_server: ChatServer) -> None:
    chat_server.script("429")
    waits = Waits()
    run = run_generate(providers_for(chat_server.url), continue_request(), on_wait=waits)
    assert run.error is None
    [record] = run.records
    assert record.outcome is Outcome.COMPLETE
    assert record.output == DEFAULT_REPLY
    assert waits.calls == [(0.0, 1, "rate_limit")]
    assert record.timing["retries"] == ["attempt 1: rate_limit, waited 0 s"]


# -- 5xx ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["500", "503"])
def test_5xx_retried_then_a_server_error_naming_the_status(
    chat_server: ChatServer, status: str
) -> None:
    chat_server.script(status, status, status)
    waits = Waits()
    with pytest.raises(ProviderError) as caught:
        stream(make_client(chat_server, max_attempts=3, backoff=0.01), on_wait=waits)
    error = caught.value
    assert error.kind is FailureKind.SERVER
    assert error.status == int(status)
    assert f"HTTP {status}" in str(error)
    assert error.opens_settings is False
    assert waits.calls == [(0.01, 1, "server"), (0.02, 2, "server")]
    assert len(chat_server.completions) == 3


def test_503_then_ok_succeeds(chat_server: ChatServer) -> None:
    chat_server.script("503")
    waits = Waits()
    result = stream(make_client(chat_server), on_wait=waits)
    assert result.outcome is Outcome.COMPLETE
    assert result.text == DEFAULT_REPLY
    assert result.error is None
    assert waits.calls == [(0.01, 1, "server")]


# -- timeouts -------------------------------------------------------------------------------------


def test_timeout_is_a_clear_timeout_error(chat_server: ChatServer) -> None:
    chat_server.script(Behaviour("timeout", delay=3.0))
    started = time.perf_counter()
    with pytest.raises(ProviderError) as caught:
        stream(make_client(chat_server, timeout=0.5))
    elapsed = time.perf_counter() - started
    error = caught.value
    assert error.kind is FailureKind.TIMEOUT
    assert "did not answer within 0.5 seconds" in str(error)
    assert str(error).endswith(".")
    assert 0.4 <= elapsed < 2.5
    assert len(chat_server.completions) == 1  # a timeout is not retried


def test_timeout_through_generate_is_a_failed_record(chat_server: ChatServer) -> None:
    chat_server.script(Behaviour("timeout", delay=3.0))
    run = run_generate(providers_for(chat_server.url, timeout=0.5), continue_request())
    assert run.error is not None
    assert run.error.kind is FailureKind.TIMEOUT
    [record] = run.records
    assert record.outcome is Outcome.FAILED
    assert "0.5 seconds" in record.error


# -- connection refused ----------------------------------------------------------------------------


def test_connection_refused_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = ModelClient(url, None, "test-model", timeout=2.0, max_attempts=3, backoff=0.01)
    waits = Waits()
    with pytest.raises(ProviderError) as caught:
        stream(client, on_wait=waits)
    error = caught.value
    assert error.kind is FailureKind.CONNECTION
    assert url in str(error)
    assert "refused" in str(error)
    assert error.opens_settings is True
    assert waits.calls == []


def test_connection_refused_through_generate_is_a_failed_record() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    run = run_generate(providers_for(url), continue_request())
    assert run.error is not None
    assert run.error.kind is FailureKind.CONNECTION
    [record] = run.records
    assert record.outcome is Outcome.FAILED
    assert url in record.error


# -- malformed stream --------------------------------------------------------------------------------


def test_malformed_stream_is_an_error_and_returns_no_text(chat_server: ChatServer) -> None:
    chat_server.script("malformed")
    deltas: list[str] = []
    with pytest.raises(ProviderError) as caught:
        stream(make_client(chat_server), on_delta=deltas.append)
    assert caught.value.kind is FailureKind.MALFORMED
    assert "malformed" in str(caught.value)
    assert deltas == []


def test_malformed_stream_through_generate_has_no_output(chat_server: ChatServer) -> None:
    chat_server.script("malformed")
    run = run_generate(providers_for(chat_server.url), continue_request())
    assert run.error is not None
    assert run.error.kind is FailureKind.MALFORMED
    [record] = run.records
    assert record.outcome is Outcome.FAILED
    assert record.output == ""


# -- disconnect mid-stream -------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["disconnect", "truncate"])
def test_disconnect_mid_stream_keeps_what_arrived(chat_server: ChatServer, how: str) -> None:
    chat_server.script(how)
    deltas: list[str] = []
    result = stream(make_client(chat_server), on_delta=deltas.append)  # must not raise
    assert result.outcome is Outcome.CANCELLED
    assert result.text
    assert result.text == "".join(deltas)
    assert DEFAULT_REPLY.startswith(result.text)
    assert result.text != DEFAULT_REPLY
    assert result.error is not None
    assert result.error.kind is FailureKind.DISCONNECTED
    assert f"{len(result.text):,} characters" in str(result.error)
    assert "not inserted" in str(result.error)
    assert "Cannot connect" not in str(result.error)  # the server did answer
    assert len(chat_server.completions) == 1  # text arrived: never retried


@pytest.mark.parametrize("how", ["disconnect", "truncate"])
def test_disconnect_through_generate_is_a_cancelled_record(
    chat_server: ChatServer, how: str
) -> None:
    chat_server.script(how)
    run = run_generate(providers_for(chat_server.url), continue_request())
    [record] = run.records
    assert record.outcome is Outcome.CANCELLED
    assert record.output
    assert DEFAULT_REPLY.startswith(record.output)
    assert record.error
    assert run.error is not None
    assert run.error.kind is FailureKind.DISCONNECTED


# -- context overflow ------------------------------------------------------------------------------


def test_context_overflow_is_trimmed_and_retried(chat_server: ChatServer) -> None:
    before = "\n\n".join(
        f"Paragraph {n}. The tide came in over the stones. Gulls cried above the pier."
        for n in range(40)
    )
    request = continue_request(before)
    assert request.trimmed_chars == 0  # it fits the estimate; the server disagrees
    chat_server.script("context")
    notes: list[str] = []
    run = run_generate(providers_for(chat_server.url), request, on_note=notes.append)
    first, second = chat_server.completions
    assert first.behaviour == "context"
    assert second.behaviour == "ok"
    assert len(second.user_message) < len(first.user_message)
    assert first.user_message.endswith(second.user_message.split("\n\n", 1)[1])  # kept the end
    assert any("trimmed" in note for note in run.notes)
    assert notes == run.notes
    assert run.error is None
    [record] = run.records
    assert record.outcome is Outcome.COMPLETE
    assert record.output == DEFAULT_REPLY
    assert record.messages == second.body["messages"]  # the record says what was really sent
    trimmed = record.parameters["context_trimmed_chars"]
    assert isinstance(trimmed, int)
    assert trimmed > 0


def test_context_overflow_on_a_rewrite_keeps_the_whole_passage(chat_server: ChatServer) -> None:
    passage = " ".join(f"Sentence {n} of the passage to rewrite." for n in range(40))
    request = build_request(
        Mode.REWRITE,
        before="A short paragraph before it.",
        selection=passage,
        instruction="tighten",
    )
    chat_server.script("context")
    run = run_generate(providers_for(chat_server.url), request)
    first, second = chat_server.completions
    assert len(second.user_message) < len(first.user_message)
    assert first.user_message.endswith(f"Passage:\n{passage}")
    assert second.user_message.endswith(f"Passage:\n{passage}")  # never half a passage
    assert "Instruction: tighten." in second.user_message
    assert run.records[0].outcome is Outcome.COMPLETE


def test_context_overflow_raised_by_the_client(chat_server: ChatServer) -> None:
    chat_server.script("context")
    with pytest.raises(ProviderError) as caught:
        stream(make_client(chat_server))
    assert caught.value.kind is FailureKind.CONTEXT_OVERFLOW
    assert "maximum context length" in str(caught.value)


def test_context_overflow_every_time_gives_up(chat_server: ChatServer) -> None:
    chat_server.script(*["context"] * 5)
    run = run_generate(providers_for(chat_server.url), continue_request("word " * 500))
    assert run.error is not None
    assert run.error.kind is FailureKind.CONTEXT_OVERFLOW
    [record] = run.records
    assert record.outcome is Outcome.FAILED
    sent = chat_server.completions
    assert len(sent) == 3  # bounded
    assert len({len(r.user_message) for r in sent}) == 3  # each retry was shorter
    # The record and the notes tell what really happened: the last messages sent, two retries.
    assert record.messages == sent[-1].body["messages"]
    assert len([note for note in run.notes if "asked again" in note]) == 2


# -- cancel ------------------------------------------------------------------------------------------


def test_cancel_mid_stream(chat_server: ChatServer) -> None:
    chat_server.script(Behaviour("ok", chunk_delay=0.05))
    cancel = threading.Event()
    deltas: list[str] = []

    def on_delta(text: str) -> None:
        deltas.append(text)
        cancel.set()

    result = stream(make_client(chat_server), on_delta=on_delta, cancel=cancel)
    assert result.outcome is Outcome.CANCELLED
    assert result.text == deltas[0]
    assert len(deltas) == 1
    assert result.text != DEFAULT_REPLY


def test_cancel_mid_stream_through_generate(chat_server: ChatServer) -> None:
    chat_server.script(Behaviour("ok", chunk_delay=0.05))
    cancel = threading.Event()
    run = run_generate(
        providers_for(chat_server.url),
        continue_request(),
        on_delta=lambda _index, _text: cancel.set(),
        cancel=cancel,
    )
    [record] = run.records
    assert record.outcome is Outcome.CANCELLED
    assert record.output
    assert DEFAULT_REPLY.startswith(record.output)
    assert record.output != DEFAULT_REPLY


def test_cancel_while_waiting_to_retry(chat_server: ChatServer) -> None:
    chat_server.script(Behaviour("429", retry_after="30"))
    cancel = threading.Event()
    started = time.perf_counter()
    run = run_generate(
        providers_for(chat_server.url),
        continue_request(),
        on_wait=lambda *_: cancel.set(),
        cancel=cancel,
    )
    assert time.perf_counter() - started < 5  # did not sit out the 30 s
    [record] = run.records
    assert record.outcome is Outcome.CANCELLED
    assert run.error is not None
    assert run.error.kind is FailureKind.CANCELLED


# -- a complete generation ---------------------------------------------------------------------------


def test_complete_generation_record(chat_server: ChatServer) -> None:
    request = continue_request()
    deltas: list[tuple[int, str]] = []
    run = run_generate(
        providers_for(chat_server.url),
        request,
        on_delta=lambda index, text: deltas.append((index, text)),
    )
    assert run.error is None
    [record] = run.records
    assert record.id == "g1"
    assert record.provider == "compatible"
    assert record.model == "test-model"
    assert record.parameters["temperature"] == 0.3
    assert record.parameters["max_tokens"] == 50
    assert record.parameters["mode"] == "continue"
    assert record.messages == request.messages
    assert record.output == DEFAULT_REPLY
    assert "".join(text for _, text in deltas) == DEFAULT_REPLY
    assert {index for index, _ in deltas} == {0}
    assert record.outcome is Outcome.COMPLETE
    assert record.error == ""
    assert record.chapter_id == 7
    assert record.created < record.finished  # type: ignore[operator]
    first, total = record.timing["first_token_s"], record.timing["total_s"]
    assert isinstance(first, float)
    assert isinstance(total, float)
    assert 0 < first <= total < 5
    assert record.timing["chunks"] == 3  # the reply came in three pieces
    [sent] = chat_server.completions
    assert sent.body["model"] == "test-model"
    assert sent.body["messages"] == request.messages
    assert sent.body["temperature"] == 0.3
    assert sent.body["max_tokens"] == 50
    assert sent.body["stream"] is True


def test_brainstorm_makes_one_record_per_alternative(chat_server: ChatServer) -> None:
    request = build_request(Mode.BRAINSTORM, before="The harbour.", alternatives=3)
    chat_server.script(Behaviour(text="One."), Behaviour(text="Two."), Behaviour(text="Three."))
    run = run_generate(providers_for(chat_server.url), request)
    assert [r.output for r in run.records] == ["One.", "Two.", "Three."]
    assert [r.id for r in run.records] == ["g1", "g2", "g3"]
    assert all(r.outcome is Outcome.COMPLETE for r in run.records)


# -- the connection test ---------------------------------------------------------------------------


def test_connection_ok(chat_server: ChatServer) -> None:
    client = make_client(chat_server)
    verdict = client.test_connection()
    client.close()
    assert verdict.ok is True
    assert "Connected" in verdict.message
    assert "2 models" in verdict.message
    assert verdict.models == ("other-model", "test-model")


def test_connection_model_missing(chat_server: ChatServer) -> None:
    client = ModelClient(chat_server.url, None, "gpt-missing", timeout=3.0)
    verdict = client.test_connection()
    client.close()
    assert verdict.ok is False
    assert "gpt-missing" in verdict.message
    assert "test-model" in verdict.message  # what it offers instead


def test_connection_verdict_refused_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = ModelClient(url, None, "test-model", timeout=2.0)
    verdict = client.test_connection()
    client.close()
    assert verdict.ok is False
    assert url in verdict.message
    assert "refused" in verdict.message


def test_a_surrogate_pair_split_across_chunks_arrives_whole(chat_server: ChatServer) -> None:
    """JSON may carry half a pair in each chunk; the text the book gets is valid Unicode."""
    chat_server.script(Behaviour(pieces=("Smile \ud83d", "\ude00 done", " and \ud83d alone")))
    result = stream(make_client(chat_server))
    assert result.text == "Smile \U0001f600 done and \ufffd alone"
    result.text.encode("utf-8")  # storable: no lone surrogate left
