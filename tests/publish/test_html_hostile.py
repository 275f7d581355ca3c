"""Hostile input in the HTML book and the provenance report: it must come out inert and whole.

Raw HTML, scripts, event attributes and ``javascript:`` links in chapter text, titles, the
book's metadata, a model's prompt and output, a reviewer's name and an override reason are
parsed back with ``html.parser``: no element or attribute may come from them, and their text
must still be there to read. Control characters, bidi overrides, emoji, CJK and a 5,000-word
paragraph must not break either file.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.policy import Flag
from coauthor.core.project import Project
from coauthor.publish.document import BookDocument, prepare_export
from coauthor.publish.html_export import render_html
from coauthor.publish.report import render_report

FIXED = 1_767_225_600_000  # 2026-01-01T00:00:00Z

ATTACK = (
    '<script>alert("chapter")</script> '
    '<img src=x onerror="alert(1)"> '
    '<a href="javascript:alert(2)">click</a> '
    "<a href=javascript:alert(3)>bare</a> "
    '"><svg onload=alert(4)> '
    "</p></section><iframe src=https://evil.example/x></iframe> "
    "<style>body{background:url(https://evil.example/t.png)}</style> "
    "&amp; &lt; &#60;script&#62; {{ 7*7 }} {% raw %}"
)
MODEL_ATTACK = (
    "</pre></details><script>alert('model')</script>"
    '<div onclick="steal()">x</div><a href=" JaVaScRiPt:alert(5)">y</a>'
)
TRICKY = "Tom & Jerry <b>\"double\"</b> 'single' </title><script>alert(6)</script>"
CONTROLS = "nul\x00 bell\x07 esc\x1b vt\x0b ff\x0c del\x7f c1\x85\x9b nonchar\ufffe\ufdd0 end"
SCRIPTS = "RTL \u202eevil.exe\u202c iso \u2067abc\u2069 emoji 👩‍👩‍👧🏳️‍🌈 CJK 春眠不觉晓，处处闻啼鸟"
LONG = " ".join(f"word{n}" for n in range(5000))

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "footer", "nav", "ol", "ul",
    "li", "a", "section", "article", "h1", "h2", "h3", "p", "br", "span", "strong", "em",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "figure", "figcaption",
    "svg", "defs", "pattern", "rect", "circle", "text", "g", "details", "summary", "pre",
    "code", "dl", "dt", "dd", "div",
}  # fmt: skip


class _Parsed(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.data: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.data.append(data)

    @property
    def text(self) -> str:
        return "".join(self.data)

    def meta(self, name: str) -> str | None:
        for tag, attrs in self.tags:
            values = dict(attrs)
            if tag == "meta" and values.get("name") == name:
                return values.get("content")
        return None


def assert_inert(markup: str) -> _Parsed:
    parsed = _Parsed(markup)
    tags = {tag for tag, _ in parsed.tags}
    assert tags <= ALLOWED_TAGS, f"unexpected elements: {tags - ALLOWED_TAGS}"
    assert markup.count("<script") == 0
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.startswith("on"), f"event attribute {name} on <{tag}>"
            if name in ("href", "src", "xlink:href", "action", "formaction", "poster", "srcset"):
                # Links only within the page: no javascript:, no network.
                assert (value or "").startswith("#"), f"{name}={value!r} on <{tag}>"
            if name == "style":
                assert "url(" not in (value or "")
            if name == "http-equiv":
                assert value == "Content-Security-Policy"
    style = "".join(re.findall(r"<style>(.*?)</style>", markup, re.DOTALL))
    assert "url(" not in style
    assert "@import" not in style
    return parsed


def _hostile_project() -> tuple[Project, list[Flag]]:
    meta = BookMeta(
        title=TRICKY,
        author="Ann & <i>\"Bo\"</i> 'O'Neil'",
        company='Smith & Sons <Publishing> "Ltd"',
        subtitle=ATTACK,
        description=ATTACK,
        language='en" onload="x',
    )
    project = Project(meta, clock=lambda: FIXED)
    first = project.add_chapter(TRICKY)
    project.insert(first, 0, "Typed: " + ATTACK + "\nsecond line\n\n", Origin.HUMAN)
    generation = project.add_generation(
        Generation(
            "g1",
            "openai",
            "gpt <script>alert(7)</script>",
            {"temperature": "<script>", "stop": ["</pre>"]},
            [
                {"role": "system", "content": MODEL_ATTACK},
                {"role": "user<script>", "content": [{"type": "text", "text": ATTACK}]},
            ],
            MODEL_ATTACK,
            Outcome.COMPLETE,
            FIXED,
            FIXED + 1000,
            first.id,
            error="<script>alert('error')</script>",
            timing={"<b>first_token_ms</b>": "<script>", "tokens": 12},
            note="<img src=x onerror=alert(8)>",
        )
    )
    project.insert(first, len(first.text), generation.output, Origin.AI, generation.id)
    project.review("g1", ReviewState.APPROVED, "<script>alert('reviewer')</script>", shown_ms=1000)
    second = project.add_chapter("Controls " + CONTROLS)
    project.insert(second, 0, CONTROLS + "\n\n" + SCRIPTS + "\n\n" + LONG, Origin.PASTED)
    start = first.text.text.index("<img")
    flag = Flag(
        first.id,
        start,
        start + 30,
        ("violence<script>",),
        override="<script>alert('override')</script> it is a quotation & \"fine\"",
        source="offline",
        text_hash="abc<script>",
        override_by="Editor <b>X</b>",
        override_at=FIXED,
    )
    return project, [flag]


@pytest.fixture(scope="module")
def hostile() -> BookDocument:
    project, flags = _hostile_project()
    return prepare_export(project, flags=flags)


@pytest.mark.parametrize("styling", [False, True])
def test_book_is_inert(hostile: BookDocument, styling: bool) -> None:
    parsed = assert_inert(render_html(hostile, provenance_styling=styling))
    assert 'Typed: <script>alert("chapter")</script>' in parsed.text
    assert "</pre></details><script>alert('model')</script>" in parsed.text
    assert "{{ 7*7 }}" in parsed.text


def test_report_is_inert(hostile: BookDocument) -> None:
    parsed = assert_inert(render_report(hostile, generated_at="2026-01-01T00:00:00Z"))
    text = parsed.text
    assert 'Typed: <script>alert("chapter")</script>' in text
    assert MODEL_ATTACK in text  # the output, and the system message
    assert "<script>alert('error')</script>" in text
    assert "<script>alert('reviewer')</script>" in text
    assert "<script>alert('override')</script> it is a quotation & \"fine\"" in text
    assert "Editor <b>X</b>" in text
    assert "user<script>" in text


@pytest.mark.parametrize("render", ["book", "report"])
def test_titles_and_names_are_escaped_everywhere(hostile: BookDocument, render: str) -> None:
    markup = (
        render_html(hostile, provenance_styling=True)
        if render == "book"
        else render_report(hostile, generated_at="2026-01-01T00:00:00Z")
    )
    parsed = assert_inert(markup)
    assert TRICKY not in markup  # never raw
    assert "Tom &amp; Jerry &lt;b&gt;&#34;double&#34;&lt;/b&gt; &#39;single&#39;" in markup
    assert parsed.meta("ai-disclosure") == hostile.disclosure
    titles = [data for data in parsed.data if TRICKY in data]
    assert titles, "the title is shown as text"
    assert "Ann & <i>\"Bo\"</i> 'O'Neil'" in parsed.text
    if render == "book":
        assert 'Smith & Sons <Publishing> "Ltd"' in parsed.text
        assert parsed.meta("author") == hostile.meta.author
        assert parsed.meta("publisher") == hostile.meta.company
        html_tag = next(attrs for tag, attrs in parsed.tags if tag == "html")
        assert dict(html_tag)["lang"] == "und"


@pytest.mark.parametrize("render", ["book", "report"])
def test_controls_bidi_emoji_and_cjk_do_not_break_the_page(
    hostile: BookDocument, render: str
) -> None:
    markup = (
        render_html(hostile)
        if render == "book"
        else render_report(hostile, generated_at="2026-01-01T00:00:00Z")
    )
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\ufdd0-\ufdef]", markup)
    parsed = assert_inert(markup)
    assert "nul\ufffd bell\ufffd esc\ufffd vt\ufffd ff\ufffd del\ufffd" in parsed.text
    assert SCRIPTS in parsed.text
    assert markup.endswith("</html>\n")
    long_paragraphs = [p for p in re.findall(r"<p>(.*?)</p>", markup, re.DOTALL) if "word4999" in p]
    assert len(long_paragraphs) == 1
    assert "word0 word1" in long_paragraphs[0]


def test_book_and_report_bytes_are_valid_utf8(hostile: BookDocument, tmp_path: Path) -> None:
    from coauthor.publish.html_export import export_html
    from coauthor.publish.report import export_report

    book = export_html(hostile, tmp_path / "book.html")
    report = export_report(hostile, tmp_path / "report.html")
    for path in (book, report):
        path.read_bytes().decode("utf-8")  # strict
