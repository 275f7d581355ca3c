"""The embedded model's server process: ``xllamacpp`` serving one GGUF file on 127.0.0.1.

Run by ``EmbeddedServer`` (``coauthor.ai.embedded``) as a child of the app::

    python -m coauthor.ai.embedded_server --model PATH --port N --context C --threads T

Loading a model holds the GIL for seconds; in its own process it no longer freezes the GUI.
The protocol is one line on standard output: ``READY <port>`` once the server answers, or
``ERROR <message>`` (exit code 1) if it cannot start. llama.cpp's log goes to standard error
(anything it writes to standard output too, so that the parent's pipe never fills).

The process ends, stopping the server, when its standard input closes (the parent closed it,
or the parent is gone: the kernel closes its end of the pipe however it ended), on SIGTERM,
and, on Linux, when the parent thread that started it dies (``PR_SET_PDEATHSIG``), even if the
parent was killed with SIGKILL. No orphan outlives the app.

Only the standard library and ``xllamacpp`` are imported here: the child starts fast.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TextIO

__all__ = ["make_params", "wait_for_task_loop"]

READY = "READY"
ERROR = "ERROR"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_STOP_GRACE_S = 3.0  # then the process exits without waiting for llama.cpp's threads


def make_params(xllamacpp: Any, path: Path, port: int, context: int, threads: int) -> Any:
    """The ``CommonParams`` the embedded model runs with (in the child, and ``direct()``)."""
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    # Served under its file name (``model_name``), not its full path, so requests and the
    # connection test name the model the way the settings do.
    alias = params.model_alias
    params.model_alias = {path.name} if isinstance(alias, set) else path.name
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = context
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    key = os.environ.get("COAUTHOR_EMBEDDED_API_KEY")
    if key:  # only the app that started this server can use it
        params.api_keys = [key]
    return params


def wait_for_task_loop(port: int, timeout: float = 10.0) -> bool:
    """Return True once llama.cpp's task loop answers (a ``/slots`` request goes through it).

    ``xllamacpp.Server`` returns just before its thread enters that loop; destroying it in that
    window loses the stop signal, and the destructor would then wait for ever. False if nothing
    answered within ``timeout`` seconds.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/slots")
            key = os.environ.get("COAUTHOR_EMBEDDED_API_KEY")
            if key:
                request.add_header("Authorization", f"Bearer {key}")
            with opener.open(request, timeout=timeout) as reply:
                reply.read()
            return True
        except urllib.error.HTTPError:
            return True  # it answered (this build has no /slots): nothing more to wait for
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


def _die_with_parent() -> None:
    """Linux: SIGTERM when the thread that spawned this process dies. Elsewhere: nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # standard input's end of file still ends this process


def _protocol_stream() -> TextIO:
    """The protocol's own copy of standard output; file descriptor 1 then goes to the log."""
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8", closefd=True)
    sys.stdout.flush()
    os.dup2(2, 1)
    return stream


def _say(stream: TextIO, line: str) -> None:
    try:
        stream.write(line.replace("\n", " ") + "\n")
        stream.flush()
    except OSError:
        pass  # the parent is gone; the end of standard input stops this process


def _watch_stdin(stop: threading.Event) -> None:
    """Set ``stop`` at the end of standard input: the parent closed it, or it is gone."""
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    stop.set()


def serve(model: Path, port: int, context: int, threads: int) -> int:
    _die_with_parent()
    protocol = _protocol_stream()
    stop = threading.Event()
    threading.Thread(target=_watch_stdin, args=(stop,), name="stdin-watch", daemon=True).start()
    if not model.is_file():
        _say(protocol, f"{ERROR} {model} does not exist.")
        return 1
    try:
        import xllamacpp
    except ImportError as exc:
        _say(protocol, f"{ERROR} the xllamacpp package is missing ({exc}).")
        return 1
    params = make_params(xllamacpp, model, port, context, threads)
    try:
        server = xllamacpp.Server(params)  # pyright: ignore[reportAttributeAccessIssue]
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        _say(protocol, f"{ERROR} {model.name} could not be loaded ({exc}).")
        return 1
    if not wait_for_task_loop(port):
        _say(protocol, f"{ERROR} the server for {model.name} did not answer on port {port}.")
        os._exit(1)  # not through the destructor: it could wait for a loop that never started
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    _say(protocol, f"{READY} {port}")
    protocol.close()
    while not stop.wait(0.5):
        pass
    # Stop llama.cpp's threads and close the port; should the destructor hang, exit anyway.
    threading.Timer(_STOP_GRACE_S, os._exit, args=(0,)).start()
    del server
    sys.stderr.flush()
    os._exit(0)  # llama.cpp is stopped; skip the interpreter's teardown of the extension


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coauthor.ai.embedded_server",
        description="Serve a GGUF file on 127.0.0.1 for Coauthor.",
    )
    parser.add_argument("--model", type=Path, required=True, help="the GGUF file")
    parser.add_argument("--port", type=int, required=True, help="the port on 127.0.0.1")
    parser.add_argument("--context", type=int, default=2048, help="the context, in tokens")
    parser.add_argument("--threads", type=int, default=4, help="llama.cpp's CPU threads")
    args = parser.parse_args(argv)
    return serve(args.model, args.port, args.context, args.threads)


if __name__ == "__main__":
    sys.exit(main())
