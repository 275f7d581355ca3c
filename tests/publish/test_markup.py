"""The chapter as a reader sees it (``coauthor.publish.markup``).

Markdown chapters are compared with pandoc's CommonMark reader, construct by construct and on
generated text; every visible character is traced back to the source character whose origin it
takes; plain chapters keep every character literal."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coauthor.core.origin import Origin
from coauthor.publish.markup import (
    SCENE_BREAK_TEXT,
    Block,
    Piece,
    block_text,
    chapter_blocks,
    leaf_blocks,
    visible_text,
)

pytestmark = pytest.mark.core

DATA = Path(__file__).resolve().parents[2] / "data"
PANDOC = shutil.which("pandoc")
needs_pandoc = pytest.mark.skipif(PANDOC is None, reason="pandoc is installed by `make test`")

Flat = tuple[str, bool, bool, bool, str | None]


def human(text: str) -> list[tuple[int, Origin, str | None]]:
    return [(len(text), Origin.HUMAN, None)]


# -- a common shape for pandoc's AST and ours ---------------------------------------------------


def _merge(flat: list[Flat]) -> list[Flat]:
    out: list[Flat] = []
    for item in flat:
        if out and out[-1][1:] == item[1:] and item[0] != "\u23ce" and out[-1][0] != "\u23ce":
            out[-1] = (out[-1][0] + item[0], *item[1:])
        else:
            out.append(item)
    return out


def _pandoc_inlines(inlines: list[dict[str, Any]], em=False, strong=False, link=None) -> list[Flat]:
    flat: list[Flat] = []
    for node in inlines:
        kind, content = node["t"], node.get("c")
        if kind == "Str":
            flat.append((content, em, strong, False, link))
        elif kind == "Space":
            flat.append((" ", em, strong, False, link))
        elif kind == "SoftBreak":
            flat.append(("\n", em, strong, False, link))
        elif kind == "LineBreak":
            flat.append(("\u23ce", False, False, False, None))
        elif kind == "Emph":
            flat += _pandoc_inlines(content, True, strong, link)
        elif kind == "Strong":
            flat += _pandoc_inlines(content, em, True, link)
        elif kind == "Code":
            flat.append((content[1], em, strong, True, link))
        elif kind == "Link":
            flat += _pandoc_inlines(content[1], em, strong, content[2][0])
        elif kind == "Image":
            flat += _pandoc_inlines(content[1], em, strong, link)
        else:
            raise AssertionError(f"pandoc gave {kind}, which the comparison does not know")
    return flat


def _pandoc_blocks(blocks: list[dict[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for node in blocks:
        kind, content = node["t"], node.get("c")
        if kind in ("Para", "Plain"):
            out.append(("para", _merge(_pandoc_inlines(content))))
        elif kind == "Header":
            out.append(("heading", content[0], _merge(_pandoc_inlines(content[2]))))
        elif kind == "HorizontalRule":
            out.append(("break",))
        elif kind == "BlockQuote":
            out.append(("quote", _pandoc_blocks(content)))
        elif kind == "BulletList":
            out.append(("list", False, 1, [_pandoc_blocks(item) for item in content]))
        elif kind == "OrderedList":
            out.append(("list", True, content[0][0], [_pandoc_blocks(item) for item in content[1]]))
        elif kind == "CodeBlock":
            out.append(("code", content[1].rstrip("\n")))
        else:
            raise AssertionError(f"pandoc gave {kind}, which the comparison does not know")
    return out


def _our_inlines(pieces: list[Piece]) -> list[Flat]:
    flat: list[Flat] = []
    for piece in pieces:
        if piece.br:
            flat.append(("\u23ce", False, False, False, None))
        else:
            flat.append((piece.text, piece.em, piece.strong, piece.code, piece.link))
    return flat


def _our_blocks(blocks: list[Block]) -> list[Any]:
    out: list[Any] = []
    for block in blocks:
        if block.kind == "paragraph":
            out.append(("para", _merge(_our_inlines(block.pieces))))
        elif block.kind == "heading":
            out.append(("heading", block.level, _merge(_our_inlines(block.pieces))))
        elif block.kind == "break":
            out.append(("break",))
        elif block.kind == "quote":
            out.append(("quote", _our_blocks(block.children)))
        elif block.kind == "list":
            start = block.start if block.ordered else 1
            items = [_our_blocks(item.children) for item in block.children]
            out.append(("list", block.ordered, start, items))
        elif block.kind == "code":
            out.append(("code", "".join(p.text for p in block.pieces).rstrip("\n")))
    return out


def _strip_edges(shape: list[Any]) -> list[Any]:
    """Paragraph text without the white space around it, and runs of spaces as one (pandoc's
    Space; a reader's display collapses them too)."""
    out: list[Any] = []
    for block in shape:
        if block[0] in ("para", "heading"):
            inlines = [[x[0] if x[3] else re.sub(" {2,}", " ", x[0]), *x[1:]] for x in block[-1]]
            while inlines and not inlines[0][0].strip():
                inlines.pop(0)
            while inlines and not inlines[-1][0].strip():
                inlines.pop()
            if inlines:
                inlines[0][0] = inlines[0][0].lstrip()
                inlines[-1][0] = inlines[-1][0].rstrip()
            if not inlines and block[0] == "para":
                continue
            out.append((*block[:-1], [tuple(x) for x in inlines]))
        elif block[0] == "quote":
            out.append(("quote", _strip_edges(block[1])))
        elif block[0] == "list":
            out.append((*block[:3], [_strip_edges(item) for item in block[3]]))
        else:
            out.append(block)
    return out


def _headings(shape: list[Any]) -> list[list[Any]]:
    found: list[list[Any]] = []
    for block in shape:
        if block[0] == "heading":
            found.append(block)
        elif block[0] == "quote":
            found += _headings(block[1])
        elif block[0] == "list":
            for item in block[3]:
                found += _headings(item)
    return found


def _outline(shape: list[Any]) -> list[Any]:
    """Pandoc keeps the written levels; ours are the outline's (``#`` alone and ``##`` alone
    are both level 1; no level is skipped): number pandoc's the same way."""
    shape = json.loads(json.dumps(shape))  # lists all the way down, to renumber in place
    headings = _headings(shape)
    if headings:
        top, shown = min(h[1] for h in headings), 0
        for heading in headings:
            shown = min(heading[1] - top + 1, shown + 1)
            heading[1] = shown
    return shape


def pandoc_shape(markdown: str) -> list[Any]:
    assert PANDOC is not None
    result = subprocess.run(
        [PANDOC, "-f", "commonmark", "-t", "json"],
        input=markdown.encode("utf-8"),
        capture_output=True,
        check=True,
        timeout=120,
    )
    return _outline(_strip_edges(_pandoc_blocks(json.loads(result.stdout)["blocks"])))


def our_shape(markdown: str) -> list[Any]:
    return json.loads(
        json.dumps(_strip_edges(_our_blocks(chapter_blocks(markdown, human(markdown)))))
    )


# -- constructs ---------------------------------------------------------------------------------

CONSTRUCTS = {
    "emphasis": "She was *seven* and _very_ tired; snake_case stays, but in*tra*word does not.",
    "strong": "A **great** deal, __twice__, and ***both*** at once.",
    "nested": "*an **inner** strong* and **an *inner* em**",
    "scene breaks": "Before.\n\n* * *\n\nAfter.\n\n---\n\nAnd ___ not.\n\n___",
    "quote": "> A quotation\n> over two lines.\n>\n> And a second *paragraph*.",
    "lists": "- one\n- two **bold**\n- three\n\n1. first\n2. second\n\n3) third\n4) fourth",
    "loose list": "- one\n\n- two\n\n  still two",
    "verse": "The heron sleeps,\\\nthe shells are dumb,  \nthe water counts.",
    "headings": "# Part One\n\nText.\n\n## A scene\n\nMore.\n\nSetext\n======",
    "sections from level two": "## A section\n\n#### skips a level\n\n### back",
    "code": "Use `rm -rf` ``with `ticks` inside``.\n\n    indented code\n\n```\nfenced\n  code\n```",
    "escapes": "Not \\*emphasis\\*, a \\_literal\\_, \\# no heading, &amp; &lt;tag&gt; &#35;",
    "links": 'See [the site](https://example.org/a_(b) "title") and <https://example.org>.',
    "image": "An image: ![a *heron* at dusk](heron.png).",
    "dialogue": '"_You_ want to tell me, and I have no objection to hearing it."',
    "underscores in words": "The file my_long_name and __init__ and _a_b_",
    "quote with list": "> - item\n> - item *two*\n>\n> after",
}


@needs_pandoc
@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_each_construct_reads_as_pandoc_reads_it(name: str) -> None:
    markdown = CONSTRUCTS[name]
    assert our_shape(markdown) == pandoc_shape(markdown)


MARKDOWNISH = st.lists(
    st.sampled_from([*"ab c*_`\\\n>-1.#&[]()!<>:", "\n\n", "* * *", "**", "  \n", "word"]),
    max_size=40,
).map("".join)


@needs_pandoc
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWNISH)
def test_generated_markdown_reads_as_pandoc_reads_it(markdown: str) -> None:
    assert our_shape(markdown) == pandoc_shape(markdown)


@needs_pandoc
@pytest.mark.slow
def test_pride_and_prejudice_has_pandocs_emphasis() -> None:
    """Every ``_italic_`` of the novel is emphasis, as pandoc reads it; no marker is shown."""
    text = (DATA / "pride_and_prejudice.txt").read_text(encoding="utf-8")
    ours = our_shape(text)
    assert ours == pandoc_shape(text)
    emphasised = [
        inline[0] for block in ours if block[0] == "para" for inline in block[-1] if inline[1]
    ]
    assert len(emphasised) > 300
    assert "You" in emphasised
    shown = visible_text(chapter_blocks(text, human(text)))
    assert "_You_" not in shown
    assert '"You want to tell me' in shown


# -- provenance -----------------------------------------------------------------------------------


def _escape_source(markdown: str, piece: Piece) -> bool:
    """A piece whose text is an escape's or an entity's: its source starts with \\ or &."""
    return markdown[piece.at - 1 : piece.at] == "\\" or markdown[piece.at] == "&"


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("ab \u00e9\u4e2d\U0001f600*_`\\\n>-1.#&;[]()!<>:\t")),
        max_size=120,
    ),
    st.lists(st.integers(1, 12), min_size=1, max_size=12),
)
def test_every_piece_is_traced_to_its_source(markdown: str, lengths: list[int]) -> None:
    """Each visible character takes the origin of the source character it came from."""
    origins = [Origin.HUMAN, Origin.AI, Origin.PASTED, Origin.IMPORTED]
    runs: list[tuple[int, Origin, str | None]] = []
    pos, index = 0, 0
    while pos < len(markdown):
        length = min(lengths[index % len(lengths)], len(markdown) - pos)
        origin = origins[index % 4]
        runs.append((length, origin, f"g{index}" if origin is Origin.AI else None))
        pos += length
        index += 1
    per_char: list[Origin] = [origin for length, origin, _ in runs for _ in range(length)]
    for block in leaf_blocks(chapter_blocks(markdown, runs)):
        for piece in block.pieces:
            if piece.at < 0:
                continue
            if piece.text == markdown[piece.at : piece.at + len(piece.text)]:
                assert {per_char[piece.at + i] for i in range(len(piece.text))} == {piece.origin}
            else:
                assert piece.text == "\n" or _escape_source(markdown, piece) or piece.code
                assert per_char[piece.at] is piece.origin


def test_model_text_inside_emphasis_keeps_its_origin() -> None:
    text = "She said *it was the model* here."
    start = text.index("the model")
    runs = [
        (start, Origin.HUMAN, None),
        (len("the model"), Origin.AI, "g1"),
        (len(text) - start - len("the model"), Origin.HUMAN, None),
    ]
    (block,) = chapter_blocks(text, runs)
    assert [(p.text, p.origin, p.em) for p in block.pieces] == [
        ("She said ", Origin.HUMAN, False),
        ("it was ", Origin.HUMAN, True),
        ("the model", Origin.AI, True),
        (" here.", Origin.HUMAN, False),
    ]
    assert block.pieces[2].ref == "g1"


# -- plain chapters ---------------------------------------------------------------------------


def test_plain_text_keeps_every_character() -> None:
    """Text not written as Markdown does not change meaning: markers stay, newlines break."""
    text = "*not emphasis* and _this_\n# not a heading\n\n> not a quote\r\n- not a list\n\n\n  "
    blocks = chapter_blocks(text, human(text), "plain")
    assert [b.kind for b in blocks] == ["paragraph", "paragraph"]
    assert visible_text(blocks) == (
        "*not emphasis* and _this_\n# not a heading\n\n> not a quote\n- not a list"
    )
    assert [p.br for p in blocks[0].pieces] == [False, True, False]
    assert not any(p.em or p.strong or p.code for b in blocks for p in b.pieces)


def test_visible_text_reads_breaks_and_nested_blocks() -> None:
    text = "> quoted\n\n* * *\n\n- one\n- two\n\n```\n  code\n```\n\n#\n"
    blocks = chapter_blocks(text, human(text))
    assert [block_text(b) for b in leaf_blocks(blocks)] == [
        "quoted",
        SCENE_BREAK_TEXT,
        "one",
        "two",
        "  code",
        "",
    ]
    assert visible_text(blocks) == "quoted\n\n* * *\n\none\n\ntwo\n\n  code"


def test_raw_html_is_text() -> None:
    text = "<script>alert(1)</script>\n\n<b>bold</b> *em*"
    blocks = chapter_blocks(text, human(text))
    assert visible_text(blocks) == "<script>alert(1)</script>\n\n<b>bold</b> em"


def test_windows_line_ends_and_nul_keep_offsets() -> None:
    text = "one *two*\r\nthree\0\r\n\r\nfour"
    blocks = chapter_blocks(text, human(text))
    assert visible_text(blocks) == "one two\nthree\ufffd\n\nfour"
    four = blocks[-1].pieces[0]
    assert text[four.at :] == "four"
