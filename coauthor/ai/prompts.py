"""What the model is asked: the modes of the AI panel and the context they send.

The context is the text before the cursor, bounded to fit the model's context window (the
request says when it was trimmed), plus the book's synopsis and notes if the author wrote any.
Token counts are estimated at four characters a token, on the safe side for prose.

Continue also carries the context alone as ``Request.prompt``: where the provider has a plain
completion endpoint, the model is given the text itself to continue, which small models do far
better than following an instruction (``continuation``). The chat messages stay for providers
without one, and every other mode is an instruction, always sent through chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

__all__ = ["Mode", "Request", "build_request", "trim_context"]

CHARS_PER_TOKEN = 4
_OVERHEAD_TOKENS = 64

SYSTEM = (
    "You are a careful co-writer helping an author with their book. Write in the author's "
    "voice and language. Reply with the requested text only: no preamble, no commentary."
)


class Mode(StrEnum):
    CONTINUE = "continue"
    REWRITE = "rewrite"
    EXPAND = "expand"
    BRAINSTORM = "brainstorm"
    PROMPT = "prompt"


MODE_LABELS = {
    Mode.CONTINUE: "Continue from the cursor",
    Mode.REWRITE: "Rewrite the selection",
    Mode.EXPAND: "Expand the selection",
    Mode.BRAINSTORM: "Brainstorm alternatives",
    Mode.PROMPT: "Free prompt",
}


@dataclass
class Request:
    mode: Mode
    messages: list[dict[str, str]]
    temperature: float
    max_tokens: int
    alternatives: int = 1
    trimmed_chars: int = 0
    notes: list[str] = field(default_factory=list)
    context_span: tuple[int, int] | None = None
    """Where the context before the cursor sits in the user message (``shrink`` cuts only it)."""
    prompt: str | None = None
    """For a plain completion (Continue): the context, without the spaces it may end with; None
    for an instruction, or when there is no text before the cursor."""
    after_space: bool = False
    """The context ended with a space or tab that ``prompt`` leaves out (a prompt ending in a
    space makes a model write badly), so the continuation's leading spaces are dropped."""
    seed: int | None = None
    """The sampling seed sent with the request (the benchmark's); None sends none."""

    def parameters(self) -> dict[str, object]:
        parameters: dict[str, object] = {
            "mode": self.mode.value,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "alternatives": self.alternatives,
            "context_trimmed_chars": self.trimmed_chars,
        }
        if self.seed is not None:
            parameters["seed"] = self.seed
        return parameters

    def as_chat(self) -> Request:
        """The same request with no plain-completion prompt: always sent through chat."""
        return replace(self, prompt=None, after_space=False, notes=[*self.notes])


def _completion_prompt(mode: Mode, context: str) -> tuple[str | None, bool]:
    """``Request.prompt`` and ``Request.after_space`` for ``context``."""
    if mode is not Mode.CONTINUE or not context.strip():
        return None, False
    prompt = context.rstrip(" \t")
    return prompt, len(prompt) < len(context)


def trim_context(before: str, budget_chars: int) -> tuple[str, int]:
    """Keep the end of ``before`` within ``budget_chars``, cut at a paragraph or sentence."""
    if len(before) <= budget_chars:
        return before, 0
    if budget_chars <= 0:
        return "", len(before)
    tail = before[-budget_chars:]
    for mark in ("\n\n", "\n", ". ", " "):
        cut = tail.find(mark)
        if 0 <= cut < len(tail) // 2:
            tail = tail[cut + len(mark) :]
            break
    return tail, len(before) - len(tail)


def build_request(
    mode: Mode,
    *,
    before: str,
    selection: str = "",
    instruction: str = "",
    synopsis: str = "",
    notes: str = "",
    temperature: float = 0.7,
    max_tokens: int = 200,
    context_tokens: int = 2048,
    alternatives: int = 3,
    seed: int | None = None,
) -> Request:
    """The chat messages for one request, with the context bounded to the model's window."""
    book_notes = []
    if synopsis.strip():
        book_notes.append(f"Synopsis of the book:\n{synopsis.strip()}")
    if notes.strip():
        book_notes.append(f"The author's notes:\n{notes.strip()}")
    fixed = SYSTEM + "".join(book_notes) + selection + instruction
    budget_tokens = context_tokens - max_tokens - _OVERHEAD_TOKENS - len(fixed) // CHARS_PER_TOKEN
    context, trimmed = trim_context(before, max(0, budget_tokens) * CHARS_PER_TOKEN)
    system = SYSTEM + ("\n\n" + "\n\n".join(book_notes) if book_notes else "")
    if mode is Mode.CONTINUE:
        user = (
            "Continue this text from where it stops. Write the next few sentences only.\n\n"
            f"{context}"
        )
    elif mode is Mode.REWRITE:
        user = (
            f"Rewrite the passage below. Instruction: {instruction or 'improve the prose'}.\n\n"
            f"Text before the passage, for context:\n{context}\n\nPassage:\n{selection}"
        )
    elif mode is Mode.EXPAND:
        user = (
            "Expand the passage below with more detail, keeping its meaning and voice.\n\n"
            f"Text before the passage, for context:\n{context}\n\nPassage:\n{selection}"
        )
    elif mode is Mode.BRAINSTORM:
        focus = instruction or "what could happen next"
        user = f"Suggest one idea for {focus}, in two or three sentences.\n\nThe text so far:\n{context}"
    else:
        user = instruction + (f"\n\nThe text so far:\n{context}" if context else "")
    request = Request(
        mode,
        [{"role": "system", "content": system}, {"role": "user", "content": user}],
        temperature,
        max_tokens,
        alternatives if mode is Mode.BRAINSTORM else 1,
        trimmed,
    )
    # The context ends the user message, but for a rewrite or expansion the passage follows it.
    end = len(user) - (
        len(f"\n\nPassage:\n{selection}") if mode in (Mode.REWRITE, Mode.EXPAND) else 0
    )
    request.context_span = (end - len(context), end)
    request.prompt, request.after_space = _completion_prompt(mode, context)
    request.seed = seed
    if trimmed:
        request.notes.append(
            f"The context was trimmed to fit the model: the first {trimmed:,} characters before "
            "the cursor were left out."
        )
    return request


def shrink(request: Request, factor: float = 0.5) -> Request:
    """The same request with its context cut further, after the server said it was too long."""
    user = request.messages[-1]["content"]
    keep = int(len(user) * factor)
    span = request.context_span
    if span is not None:
        # Only the context is cut: the instruction and the passage to rewrite stay whole.
        start, end = span
        body, dropped = trim_context(user[start:end], max(0, (end - start) - (len(user) - keep)))
        content, span = user[:start] + body + user[end:], (start, start + len(body))
    else:
        head, _, rest = user.partition("\n\n")
        body, dropped = trim_context(rest, max(0, keep - len(head)))
        content = f"{head}\n\n{body}"
    messages = [*request.messages[:-1], {"role": "user", "content": content}]
    shrunk = Request(
        request.mode,
        messages,
        request.temperature,
        request.max_tokens,
        request.alternatives,
        request.trimmed_chars + dropped,
        [*request.notes],
        span,
        seed=request.seed,
    )
    if request.prompt is not None:
        context = content[span[0] : span[1]] if span is not None else body
        shrunk.prompt, shrunk.after_space = _completion_prompt(request.mode, context)
    shrunk.notes.append(
        f"The server said the request was too long for its context; Coauthor trimmed "
        f"{dropped:,} more characters of context and asked again."
    )
    return shrunk
