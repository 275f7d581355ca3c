"""What the model is asked: the modes' messages and the context bounded to the model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coauthor.ai.prompts import CHARS_PER_TOKEN, SYSTEM, Mode, build_request, shrink, trim_context

PARAGRAPHS = [
    f"Paragraph {n} begins here. The tide came in over the stones. Gulls cried above the pier."
    for n in range(200)
]
LONG = "\n\n".join(PARAGRAPHS)


def _tokens(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN


# -- trim_context ------------------------------------------------------------------------------


def test_trim_context_leaves_short_text_alone() -> None:
    assert trim_context("Short text.", 100) == ("Short text.", 0)
    assert trim_context("", 10) == ("", 0)


def test_trim_context_keeps_the_end_and_cuts_at_a_paragraph() -> None:
    kept, trimmed = trim_context(LONG, 1000)
    assert LONG.endswith(kept)
    assert len(kept) <= 1000
    assert trimmed == len(LONG) - len(kept)
    assert kept.startswith("Paragraph ")  # a whole paragraph, not the middle of one
    assert LONG[len(LONG) - len(kept) - 2 : len(LONG) - len(kept)] == "\n\n"
    assert kept.endswith(PARAGRAPHS[-1])


def test_trim_context_cuts_at_a_sentence_without_paragraphs() -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(100))
    kept, trimmed = trim_context(text, 300)
    assert text.endswith(kept)
    assert len(kept) <= 300
    assert trimmed == len(text) - len(kept)
    assert kept.startswith("Sentence number ")
    assert text[len(text) - len(kept) - 2 : len(text) - len(kept)] == ". "


def test_trim_context_with_no_room() -> None:
    assert trim_context("Some text.", 0) == ("", 10)
    assert trim_context("Some text.", -5) == ("", 10)


@given(st.text(alphabet="ab .\n", max_size=400), st.integers(min_value=-10, max_value=500))
def test_trim_context_properties(before: str, budget: int) -> None:
    kept, trimmed = trim_context(before, budget)
    assert before.endswith(kept)
    assert len(kept) <= max(0, budget) or kept == before
    assert trimmed == len(before) - len(kept)
    if len(before) <= budget:
        assert (kept, trimmed) == (before, 0)


# -- build_request -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(Mode))
def test_every_mode_has_a_system_and_a_user_message(mode: Mode) -> None:
    request = build_request(
        mode,
        before="The storm broke at midnight.",
        selection="She ran to the window.",
        instruction="make it tenser",
    )
    assert request.mode is mode
    assert [m["role"] for m in request.messages] == ["system", "user"]
    assert request.messages[0]["content"].startswith(SYSTEM)
    user = request.messages[1]["content"]
    assert "The storm broke at midnight." in user
    if mode in (Mode.REWRITE, Mode.EXPAND):
        assert "She ran to the window." in user
    if mode in (Mode.REWRITE, Mode.BRAINSTORM, Mode.PROMPT):
        assert "make it tenser" in user
    assert request.alternatives == (3 if mode is Mode.BRAINSTORM else 1)
    assert request.trimmed_chars == 0
    assert request.notes == []


def test_rewrite_without_instruction_has_a_default() -> None:
    request = build_request(Mode.REWRITE, before="Before.", selection="The passage.")
    assert "improve the prose" in request.messages[1]["content"]


def test_prompt_without_context() -> None:
    request = build_request(Mode.PROMPT, before="", instruction="Name three ships.")
    assert request.messages[1]["content"] == "Name three ships."


def test_parameters_are_recorded() -> None:
    request = build_request(
        Mode.BRAINSTORM, before="x", temperature=0.9, max_tokens=120, alternatives=2
    )
    assert request.parameters() == {
        "mode": "brainstorm",
        "temperature": 0.9,
        "max_tokens": 120,
        "alternatives": 2,
        "context_trimmed_chars": 0,
    }


@pytest.mark.parametrize("mode", list(Mode))
def test_a_long_context_is_trimmed_to_fit_the_model(mode: Mode) -> None:
    context_tokens, max_tokens = 1024, 150
    request = build_request(
        mode,
        before=LONG,
        selection="The passage to work on.",
        instruction="an instruction",
        max_tokens=max_tokens,
        context_tokens=context_tokens,
    )
    assert _tokens(request.messages) + max_tokens <= context_tokens
    assert request.trimmed_chars > 0
    user = request.messages[1]["content"]
    assert PARAGRAPHS[-1] in user  # the text nearest the cursor is kept
    assert PARAGRAPHS[0] not in user
    [note] = request.notes
    assert "trimmed" in note
    assert f"{request.trimmed_chars:,}" in note
    assert request.parameters()["context_trimmed_chars"] == request.trimmed_chars
    if mode in (Mode.REWRITE, Mode.EXPAND):
        assert user.endswith("The passage to work on.")  # the selection is never trimmed


def test_context_fits_with_synopsis_and_notes() -> None:
    synopsis = "A lighthouse keeper's last winter. " * 30
    notes = "Keep the tone quiet. " * 30
    request = build_request(
        Mode.CONTINUE, before=LONG, synopsis=synopsis, notes=notes, context_tokens=1024
    )
    assert _tokens(request.messages) + request.max_tokens <= 1024
    assert request.trimmed_chars > 0


def test_synopsis_and_notes_are_included_when_given() -> None:
    request = build_request(
        Mode.CONTINUE,
        before="Text.",
        synopsis="  A keeper's last winter.  ",
        notes="Quiet tone.\n",
    )
    system = request.messages[0]["content"]
    assert "Synopsis of the book:\nA keeper's last winter." in system
    assert "The author's notes:\nQuiet tone." in system
    plain = build_request(Mode.CONTINUE, before="Text.", synopsis="   ", notes="")
    assert plain.messages[0]["content"] == SYSTEM
    assert "Synopsis" not in plain.messages[1]["content"]


# -- shrink (after the server said the request was too long) --------------------------------------


def test_shrink_halves_the_context_and_says_so() -> None:
    request = build_request(Mode.CONTINUE, before=LONG, context_tokens=8192)
    shrunk = shrink(request)
    old_user, new_user = request.messages[1]["content"], shrunk.messages[1]["content"]
    assert len(new_user) <= len(old_user) // 2 + 2
    head = old_user.split("\n\n", 1)[0]
    assert new_user.startswith(head + "\n\n")  # the instruction stays
    assert old_user.endswith(new_user.split("\n\n", 1)[1])  # the end of the context stays
    assert shrunk.messages[0] == request.messages[0]
    assert shrunk.trimmed_chars > request.trimmed_chars
    assert len(shrunk.notes) == len(request.notes) + 1
    assert "too long" in shrunk.notes[-1]
    assert request.messages[1]["content"] == old_user  # the original is untouched


@pytest.mark.parametrize("mode", list(Mode))
def test_shrink_cuts_only_the_context(mode: Mode) -> None:
    passage = " ".join(f"Sentence {n} of the passage." for n in range(60))
    instruction = "Tighten it.\n\nKeep the sadness."
    before = "\n\n".join(PARAGRAPHS[:12])
    request = build_request(mode, before=before, selection=passage, instruction=instruction)
    assert request.context_span is not None
    start, end = request.context_span
    user = request.messages[1]["content"]
    assert user[start:end] == before
    shrunk = shrink(request)
    new_user = shrunk.messages[1]["content"]
    assert len(new_user) < len(user)
    assert new_user.startswith(user[:start])  # the instruction, whole
    assert new_user.endswith(user[end:])  # the passage to rewrite, whole
    if mode in (Mode.REWRITE, Mode.EXPAND):
        assert new_user.endswith(f"Passage:\n{passage}")
    if mode in (Mode.REWRITE, Mode.BRAINSTORM, Mode.PROMPT):
        assert instruction.split("\n\n", maxsplit=1)[0] in new_user
    if mode is Mode.PROMPT:
        assert instruction in new_user
    assert shrunk.context_span is not None
    new_start, new_end = shrunk.context_span
    assert before.endswith(new_user[new_start:new_end])
    assert shrunk.trimmed_chars == len(before) - (new_end - new_start)
    # Shrinking again keeps working from the new span.
    again = shrink(shrunk)
    assert again.messages[1]["content"].endswith(user[end:])
    assert again.trimmed_chars >= shrunk.trimmed_chars
