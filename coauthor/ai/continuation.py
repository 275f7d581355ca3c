"""Continuing prose by plain completion, and the check of what comes back.

A small model asked to continue through its chat template comments on the text ("the use of
the word … is particularly poignant") or repeats it. Given the text itself as a prompt (the
server's ``/v1/completions``) it continues the prose. ``Continuation`` shapes that stream as it
arrives:

- it ends at the first line break after some text: a continuation is the rest of the
  paragraph (or, when the text ends with a blank line, the next one);
- an echo at its start (the model writing out again the text it was given, at least
  ``ECHO_START_WORDS`` words of it) is removed;
- a later run of ``ECHO_RUN_WORDS`` words that repeats the prompt ends it there: the model is
  looping back over the text;
- when the token limit cut it off, it ends at its last sentence end.

Text is handed on (``feed``'s return value) only once no later echo can start in it, so the
preview never shows what will be taken back, except the unfinished sentence a token limit cuts.

``prose_faults`` is the check ``bench/generate_quality.py`` and the tests make of an output:
no commentary about the text, no repetition of the prompt, ends at a sentence end.
"""

from __future__ import annotations

import re

__all__ = [
    "COMMENTARY",
    "ECHO_RUN_WORDS",
    "ECHO_START_WORDS",
    "SHINGLE_WORDS",
    "Continuation",
    "commentary",
    "ends_a_sentence",
    "prose_faults",
    "repeats_itself",
]

ECHO_START_WORDS = 6
"""An opening that repeats this many words of the prompt, or more, is an echo."""
ECHO_RUN_WORDS = 8
"""A run of this many words of the prompt, later in the output, ends it."""

_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(
    r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)[.!?…]+[\"'’”)\]_*]*(?=\s|$)"
)
"""A sentence end (not the stop of "Mr." and the like: *Pride and Prejudice* is full of them)."""


def ends_a_sentence(text: str) -> bool:
    """Whether ``text`` ends with a full stop, question or exclamation mark (or an ellipsis),
    closing quotes and brackets after it allowed."""
    stripped = text.rstrip()
    return _last_sentence_end(stripped) == len(stripped) > 0


def _last_sentence_end(text: str) -> int:
    """Where the last sentence of ``text`` ends (0: no sentence end in it)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return ends[-1] if ends else 0


def _collapsed(text: str) -> str:
    """``text``'s words, one space between them, with a space at each end."""
    return " " + " ".join(text.split()) + " "


class Continuation:
    """Shapes the stream of one plain completion of ``prompt`` (see the module's text).

    ``feed`` each piece as it arrives and pass on what it returns; stop reading once ``done``;
    ``close`` gives the final text. ``after_space``: the text before the cursor ended with a
    space the prompt left out, so the output's leading spaces are dropped.
    """

    def __init__(self, prompt: str, *, after_space: bool = False) -> None:
        self.prompt = prompt
        self.after_space = after_space
        self.stopped_at = ""
        """Why the text ended early: "paragraph end", "echo" or "sentence end"."""
        self.echo_removed_chars = 0
        self.cut_chars = 0
        """Characters the model wrote after the end chosen here."""
        self.raw_chars = 0
        self._prompt = _collapsed(prompt)
        words = prompt.split()
        self._runs = {
            tuple(words[i : i + ECHO_RUN_WORDS]) for i in range(len(words) - ECHO_RUN_WORDS + 1)
        }
        self._opening = ""  # held while it may still be an echo of the prompt
        self._settled = False
        self._text = ""
        self._released = 0
        self._closed = False

    @property
    def done(self) -> bool:
        """The text has ended here: nothing more the model writes is wanted."""
        return bool(self.stopped_at)

    @property
    def text(self) -> str:
        """The text so far (what ``close`` would give without the token-limit cut)."""
        return self._text if self._settled else ""

    def feed(self, piece: str) -> str:
        """Take the next piece of the stream; return what can be shown now."""
        self.raw_chars += len(piece)
        if self.done or self._closed:
            self.cut_chars += len(piece)
            return ""
        if self._settled:
            self._text += piece
        else:
            self._opening += piece
            if not self._opening.strip() or self._is_echo_so_far():
                return ""
            self._settle(final=False)
        self._shape(final=False)
        return self._release(final=False)

    def close(self, *, token_limit: bool = False) -> str:
        """The final text. ``token_limit``: the server stopped at ``max_tokens``, so an
        unfinished last sentence is left out."""
        if not self._closed:
            self._closed = True
            if not self._settled:
                self._settle(final=True)
            self._shape(final=True)
            if token_limit and not self.done:
                self._end_at_sentence()
            kept = self._text.rstrip()
            self.cut_chars += len(self._text) - len(kept)
            self._text = kept
        return self._text

    def facts(self) -> dict[str, object]:
        """What the shaping did, for the generation's record (only what happened)."""
        facts: dict[str, object] = {}
        if self.stopped_at:
            facts["stopped_at"] = self.stopped_at
        if self.echo_removed_chars:
            facts["echo_removed_chars"] = self.echo_removed_chars
        if self.cut_chars:
            facts["cut_chars"] = self.cut_chars
        return facts

    # -- the steps -------------------------------------------------------------------------------

    def _is_echo_so_far(self) -> bool:
        """Whether all of the opening so far (its last word perhaps unfinished) is in the
        prompt, starting at a word."""
        opening = " ".join(self._opening.split())
        return bool(opening) and (" " + opening) in self._prompt

    def _settle(self, *, final: bool) -> None:
        """Decide whether the opening was an echo: drop it if it was, keep it if not."""
        opening = self._opening
        words = list(_WORD.finditer(opening))
        count = 0
        while count < len(words):
            # A finished word of the opening: its last one counts only at the end.
            if not final and words[count].end() == len(opening):
                break
            candidate = " ".join(m.group() for m in words[: count + 1])
            if f" {candidate} " not in self._prompt:
                break
            count += 1
        if count >= ECHO_START_WORDS:
            end = words[count - 1].end()
            self.echo_removed_chars = end
            opening = opening[end:]
        if self.after_space:
            opening = opening.lstrip(" \t")
        self._settled = True
        self._opening = ""
        self._text = opening

    def _shape(self, *, final: bool) -> None:
        """End the text at a paragraph end or at a run that repeats the prompt."""
        if self.done:
            return
        text = self._text
        content = len(text) - len(text.lstrip())
        if content < len(text):
            line_end = text.find("\n", content)
            if line_end >= 0:
                self._end(line_end, "paragraph end")
                text = self._text
        words = list(_WORD.finditer(text))
        if not final and not self.done and words and words[-1].end() == len(text):
            words = words[:-1]  # unfinished: it may still grow
        for i in range(len(words) - ECHO_RUN_WORDS + 1):
            if tuple(m.group() for m in words[i : i + ECHO_RUN_WORDS]) in self._runs:
                self._end(words[i].start(), "echo")
                break

    def _end(self, at: int, why: str) -> None:
        kept = self._text[:at].rstrip()
        self.cut_chars += len(self._text) - len(kept)
        self._text = kept
        self.stopped_at = why
        self._released = min(self._released, len(kept))

    def _end_at_sentence(self) -> None:
        end = _last_sentence_end(self._text)
        if 0 < end < len(self._text.rstrip()):
            self._end(end, "sentence end")

    def _release(self, *, final: bool) -> str:
        """The text no later echo can start in, not yet handed on."""
        if final or self.done:
            upto = len(self._text)
        else:
            words = list(_WORD.finditer(self._text))
            # A run not yet checked starts in the last ECHO_RUN_WORDS words (the last of them
            # perhaps unfinished).
            upto = words[len(words) - ECHO_RUN_WORDS].start() if len(words) >= ECHO_RUN_WORDS else 0
            upto = len(self._text[:upto].rstrip())  # a space goes with the word after it
        new = self._text[self._released : upto] if upto > self._released else ""
        self._released = max(self._released, upto)
        return new

    def rest(self) -> str:
        """After ``close``: the final text not yet handed on by ``feed``."""
        return self._release(final=True) if self._closed else ""


# -- the check ---------------------------------------------------------------------------------

COMMENTARY = (
    "the text",
    "this text",
    "this passage",
    "the excerpt",
    "this excerpt",
    "the author",
    "the narrator",
    "the reader",
    "the writer's",
    "the sentence",
    "this sentence",
    "the paragraph",
    "this paragraph",
    "the novel",
    "this novel",
    "the story's",
    "this story",
    "the chapter",
    "this chapter",
    "the protagonist",
    "the characters",
    "the dialogue",
    "the imagery",
    "the prose",
    "the theme",
    "themes",
    "continuation",
    "here is a",
    "here's a",
    "sure, here",
    "certainly!",
    "as an ai",
    "as a language model",
    "i'm unable to",
    "co-writer",
    "your text",
    "your story",
    "your novel",
    "the original text",
    "rewrit*",
    "i hope this helps",
    "the use of the word",
    "the word '",
    'the word "',
    "the phrase",
    "in this scene",
    "highlights",
    "conveys",
    "literary",
    "austen",
    "poignan*",
    "symboli*",
    "metaphor*",
    "foreshadow*",
)
"""Phrases that talk about the text instead of continuing it: whole words in any case, or
word starts where they end in ``*``. None of them occurs in *Pride and Prejudice* (a test
checks)."""


def _phrase(phrase: str) -> str:
    if phrase.endswith("*"):
        return re.escape(phrase[:-1])
    return re.escape(phrase) + (r"(?!\w)" if phrase[-1].isalnum() else "")


_COMMENTARY = re.compile(r"(?<!\w)(?:" + "|".join(map(_phrase, COMMENTARY)) + ")", re.IGNORECASE)
SHINGLE_WORDS = 6
"""The check calls an output repetitive when it shares a run of this many words (letters and
digits only, lower case) with the prompt: stricter than what ``Continuation`` removes."""


def _plain_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("’", "'"))


def _shingles(words: list[str]) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)]


def commentary(output: str) -> list[str]:
    """The commentary phrases in ``output`` (as they are written there, in lower case)."""
    return sorted({m.group().lower() for m in _COMMENTARY.finditer(output)})


def prose_faults(prompt: str, output: str) -> list[str]:
    """Why ``output`` does not read as a continuation of ``prompt``'s prose ([] if it does):

    ``empty``; ``commentary`` (a phrase of ``COMMENTARY``); ``repeats the prompt`` (a run of
    ``SHINGLE_WORDS`` words of the prompt); ``unfinished`` (it does not end at a sentence end).
    """
    if not output.strip():
        return ["empty"]
    faults = []
    if commentary(output):
        faults.append("commentary")
    if set(_shingles(_plain_words(output))) & set(_shingles(_plain_words(prompt))):
        faults.append("repeats the prompt")
    if not ends_a_sentence(output):
        faults.append("unfinished")
    return faults


def repeats_itself(output: str) -> bool:
    """Whether ``output`` has a run of ``SHINGLE_WORDS`` words twice (a loop)."""
    shingles = _shingles(_plain_words(output))
    return len(set(shingles)) < len(shingles)
