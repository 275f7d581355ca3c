"""The Markdown scanner the editor styles with (``ui/mdstyle.py``), without Qt.

What a reader of the manuscript sees in the editor must agree with what the exports make of the
same text: the emphasis, strong emphasis and code spans are compared, character by character,
with markdown-it-py's CommonMark parse (the parser the exports use) on generated text.
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from coauthor.ui.mdstyle import (
    BOLD,
    CODE,
    HEADING_SHIFT,
    ITALIC,
    MARK,
    MAX_UNIT_CHARS,
    QUOTE,
    QUOTE_MARKER,
    SCENE,
    continues,
    heading_level,
    inline_spans,
    style_unit,
)

_MD = MarkdownIt("commonmark", {"html": False})


def flags_at(segments: list[tuple[int, int, int]], size: int) -> list[int]:
    out = [0] * size
    for start, end, flags in segments:
        for i in range(start, end):
            out[i] |= flags
    return out


def styled(text: str, flag: int) -> str:
    """The characters of ``text`` that carry ``flag``, others as dots."""
    per_char = flags_at(inline_spans(text), len(text))
    return "".join(c if per_char[i] & flag else "." for i, c in enumerate(text))


# -- what the author sees ------------------------------------------------------------------------


def test_single_stars_and_underscores_make_italics_with_their_markers_dimmed() -> None:
    assert styled("a *seven* b", ITALIC) == "...seven..."
    assert styled("a *seven* b", MARK) == "..*.....*.."
    assert styled("a _seven_ b", ITALIC) == "...seven..."


def test_double_markers_make_bold_and_triple_both() -> None:
    assert styled("a **strong** b", BOLD) == "....strong...."
    assert styled("a __strong__ b", BOLD) == "....strong...."
    text = "***both***"
    assert styled(text, BOLD) == "...both..."
    assert styled(text, ITALIC) == ".**both**."  # the inner markers are inside the italics
    assert styled(text, MARK) == "***....***"


def test_underscores_inside_words_are_not_emphasis_but_stars_are() -> None:
    assert inline_spans("snake_case_name and my_var_x") == []
    assert styled("un*frigging*believable", ITALIC) == "...frigging..........."
    assert styled("un_frigging_believable", ITALIC) == "." * 22


def test_escaped_markers_are_not_markers() -> None:
    assert styled(r"\*not italic*", ITALIC) == "." * 13
    assert styled(r"\*not italic*", MARK) == "\\............"  # the backslash is dimmed
    assert styled(r"\\*italic*", ITALIC) == "...italic."  # an escaped backslash escapes nothing


def test_code_spans_are_monospace_and_hide_emphasis_inside() -> None:
    text = "call `snake*case*` and ``a ` b``"
    assert styled(text, CODE) == "......snake*case*........a ` b.."
    assert styled(text, ITALIC) == "." * len(text)
    assert styled(r"`a\`", CODE) == ".a\\."  # no escapes inside code


def test_emphasis_spans_the_lines_of_a_paragraph() -> None:
    lines = ["She *never", "once* looked back."]
    first, second = style_unit(lines)
    assert (4, 5, MARK) in first
    assert (5, 10, ITALIC) in first
    assert (0, 4, ITALIC) in second
    assert (4, 5, MARK) in second


def test_headings_are_marked_by_level_with_the_hashes_dimmed() -> None:
    (line,) = style_unit(["## The *Keeper* ##"])
    per_char = flags_at(line, 18)
    assert all(heading_level(f) == 2 for f in per_char)
    assert per_char[0] & MARK
    assert per_char[1] & MARK
    assert not per_char[3] & MARK
    assert per_char[3] & BOLD
    assert per_char[8] & ITALIC
    assert per_char[8] & BOLD
    assert per_char[-1] & MARK  # the closing sequence
    assert style_unit(["#hashtag"]) == [[]]  # no space: not a heading


def test_setext_underline_makes_the_paragraph_a_heading() -> None:
    first, underline = style_unit(["Part One", "---"])
    assert first == [(0, 8, BOLD | (2 << HEADING_SHIFT))]
    assert underline == [(0, 3, MARK)]


def test_quotes_lists_and_scene_breaks() -> None:
    (quote,) = style_unit(["> She said *no*."])
    assert quote[0] == (0, 2, MARK | QUOTE_MARKER)
    assert (2, 11, QUOTE) in quote
    assert (12, 14, QUOTE | ITALIC) in quote
    for marker in ("- ", "* ", "+ ", "1. ", "12) "):
        (item,) = style_unit([marker + "milk"])
        assert item == [(0, len(marker), MARK)], marker
    for rule in ("* * *", "***", "---", "___", " _ _ _ ", "*  *  *"):
        assert style_unit([rule]) == [[(0, len(rule), MARK | SCENE)]], rule
    assert style_unit(["* * x"])[0][0] == (0, 2, MARK)  # a list item, not a break


def test_where_units_end() -> None:
    assert continues("She walked", "to the sea.")
    assert not continues("She walked", "")
    assert not continues("", "to the sea.")
    assert not continues("She walked", "# Chapter")
    assert not continues("# Chapter", "She walked")
    assert not continues("She walked", "* * *")
    assert continues("She walked", "---")  # a setext underline joins its paragraph
    assert not continues("---", "She walked")
    assert not continues("She walked", "- milk")
    assert not continues("She walked", "> a quote")
    assert continues("> a quote", "lazily continued")


def test_a_long_unit_is_styled_line_by_line() -> None:
    line = "word " * (MAX_UNIT_CHARS // 10)
    first, second = style_unit([line + "*open", "close* " + line])
    assert not any(f & ITALIC for _, _, f in first + second)  # not paired across the lines
    short_first, _ = style_unit(["a *open", "close* b"])
    assert any(f & ITALIC for _, _, f in short_first)


def test_hostile_input_is_scanned_in_bounded_time() -> None:
    for text in (
        "*a " * 30_000,
        "_" * 100_000,
        "`" * 5_000 + "a",
        "*" * 50_000 + "a" + "_" * 50_000,
    ):
        started = time.perf_counter()
        inline_spans(text)
        assert time.perf_counter() - started < 2.0, text[:10]


# -- agreement with CommonMark (markdown-it-py) ------------------------------------------------


def commonmark_styles(text: str) -> list[tuple[str, int]]:
    """Each character markdown-it renders, with the styles around it."""
    (block,) = _MD.parseInline(text)
    out: list[tuple[str, int]] = []
    depth = {ITALIC: 0, BOLD: 0}
    for token in block.children or []:
        if token.type in ("em_open", "em_close", "strong_open", "strong_close"):
            flag = ITALIC if token.type.startswith("em") else BOLD
            depth[flag] += 1 if token.type.endswith("open") else -1
            continue
        current = sum(flag for flag, d in depth.items() if d > 0)
        if token.type == "code_inline":
            out.extend((c, current | CODE) for c in token.content)
        elif token.type == "softbreak":
            out.append(("\n", current))
        else:
            out.extend((c, current) for c in token.content)
    return out


def our_styles(text: str) -> list[tuple[str, int]]:
    """The same from our segments: markers left out, code spans as CommonMark shows them."""
    per_char = flags_at(inline_spans(text), len(text))
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        flags = per_char[i]
        if flags & MARK and not flags & CODE:
            i += 1
            continue
        if flags & CODE:
            j = i
            while j < len(text) and per_char[j] & CODE:
                j += 1
            content = text[i:j].replace("\n", " ")
            if len(content) > 1 and content[0] == content[-1] == " " and content.strip():
                content = content[1:-1]
            out.extend((c, (flags & (ITALIC | BOLD)) | CODE) for c in content)
            i = j
            continue
        out.append((text[i], flags & (ITALIC | BOLD)))
        i += 1
    return out


def readable(text: str) -> str:
    """Text markdown-it reads with no line-level effects: no hard breaks, no stripped spaces."""
    text = re.sub(r"[ \\]+\n", "x\n", text)
    return re.sub(r"\n[ ]+", "\nx", text).rstrip(" ")


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet="ab *_`\\.\n", max_size=40).map(readable))
def test_emphasis_and_code_agree_with_commonmark(text: str) -> None:
    assert our_styles(text) == commonmark_styles(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aé *_`\\!,\u00a0\u2014", max_size=30))
def test_unicode_flanking_agrees_with_commonmark(text: str) -> None:
    assert our_styles(text) == commonmark_styles(text)


@pytest.mark.parametrize(
    "text",
    [
        "*foo bar *",
        "a * foo bar*",
        "foo*bar*",
        "_foo_bar_baz_",
        "**foo*bar**",
        "*foo**bar**baz*",
        "*foo**bar*",
        "foo***bar***baz",
        "foo******bar*********baz",
        "*(*foo*)*",
        "__foo, __bar__, baz__",
        "`` foo ` bar ``",
        "*a `*`*",
    ],
)
def test_commonmark_spec_examples(text: str) -> None:
    assert our_styles(text) == commonmark_styles(text)
