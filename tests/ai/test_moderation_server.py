"""The moderation path against a real loopback server, through the official ``openai`` SDK.

``OpenAIModerator`` must send OpenAI-shaped requests (at most 32 inputs each), map OpenAI's
categories onto ours, add the offline checker for political campaigning and spam, retry rate
limits and server errors a bounded number of times, and turn every failure into a sentence.
``screen`` must then fall back to the offline checker for whatever the endpoint did not
screen, and say so: never pass text unscreened.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from moderation_server import OPENAI_CATEGORIES, ModerationServer, free_port

from coauthor.ai.errors import FailureKind, ProviderError
from coauthor.ai.moderation import DEFAULT_MODEL, OpenAIModerator, moderator_for
from coauthor.ai.service import ProviderConfig, ProviderKind
from coauthor.screening.passages import Passage, text_hash
from coauthor.screening.screen import screen

KEY = "sk-test-key-1234"
VERDICTS = {f"<<{name}>>": (name,) for name in (*OPENAI_CATEGORIES, "extremism")}
"""Text containing ``<<hate/threatening>>`` is flagged by the server for that category."""


@pytest.fixture
def server() -> Iterator[ModerationServer]:
    srv = ModerationServer(VERDICTS, delay=3.0).start()
    try:
        yield srv
    finally:
        srv.stop()
    assert not srv.errors, f"the moderation server failed: {srv.errors}"


@pytest.fixture
def moderator(server: ModerationServer) -> Iterator[OpenAIModerator]:
    mod = OpenAIModerator(server.url, KEY, timeout=2.0, backoff=0.01)
    try:
        yield mod
    finally:
        mod.close()


def passages(*texts: str, chapter_id: int = 1) -> list[Passage]:
    """Passages laid out as paragraphs of one chapter (two characters between them)."""
    result, pos = [], 0
    for text in texts:
        result.append(Passage(chapter_id, pos, pos + len(text), text))
        pos += len(text) + 2
    return result


# -- requests and mapping -------------------------------------------------------------------


def test_request_is_openai_shaped(server: ModerationServer, moderator: OpenAIModerator) -> None:
    result = screen(passages("A quiet harbour.", "Rain on the roofs."), moderator)
    assert result.flags == []
    assert result.error is None
    (request,) = server.moderations
    assert request.body == {
        "model": DEFAULT_MODEL,
        "input": ["A quiet harbour.", "Rain on the roofs."],
    }
    assert request.authorization == f"Bearer {KEY}"


@pytest.mark.parametrize(
    ("openai_category", "ours"),
    [
        ("harassment", "harassment"),
        ("harassment/threatening", "harassment"),
        ("hate", "hate"),
        ("hate/threatening", "hate"),
        ("self-harm", "self-harm"),
        ("self-harm/intent", "self-harm"),
        ("self-harm/instructions", "self-harm"),
        ("sexual", "sexual"),
        ("sexual/minors", "sexual"),
        ("violence", "violence"),
        ("violence/graphic", "violence"),
        ("illicit", "other-harm"),
        ("illicit/violent", "other-harm"),
        ("extremism", "other-harm"),  # a category OpenAI might add
    ],
)
def test_category_mapping(moderator: OpenAIModerator, openai_category: str, ours: str) -> None:
    text = f"A paragraph <<{openai_category}>> of prose."
    result = screen(passages("Nothing here.", text), moderator)
    assert result.error is None
    (flag,) = result.flags
    assert (flag.start, flag.end, flag.categories, flag.source) == (
        15,
        15 + len(text),
        (ours,),
        "openai",
    )
    assert flag.text_hash == text_hash(text)
    (reason,) = result.reasons_for(flag)
    assert f"OpenAI flagged it as {openai_category} 0.97" in reason


def test_several_categories_merge_in_our_order(moderator: OpenAIModerator) -> None:
    text = "<<violence/graphic>> <<hate>> <<harassment/threatening>> <<harassment>>"
    (flag,) = screen(passages(text), moderator).flags
    assert flag.categories == ("hate", "harassment", "violence")


def test_offline_adds_campaigning_and_spam_only(
    server: ModerationServer, moderator: OpenAIModerator
) -> None:
    texts = (
        "Vote for me! <<harassment>>",  # OpenAI + offline campaigning: one flag
        "Buy now! Click here!",  # offline spam only: flagged, by the offline checker
        "Kill them all!",  # OpenAI says fine; the offline violence rule is not used
    )
    result = screen(passages(*texts), moderator)
    assert result.error is None
    assert result.by_openai == 3
    got = [(f.start, f.categories, f.source) for f in result.flags]
    assert got == [
        (0, ("political-campaigning", "harassment"), "openai"),
        (29, ("spam",), "offline"),
    ]
    assert any("(offline phrase list)" in r for r in result.reasons_for(result.flags[0]))
    assert "OpenAI's moderation endpoint" in result.source_note
    assert "political campaigning and spam" in result.source_note
    assert len(server.moderations) == 1


def test_batches_of_at_most_32(server: ModerationServer, moderator: OpenAIModerator) -> None:
    texts = [f"Paragraph {i} of the chapter." for i in range(40)]
    texts[35] = "Paragraph 35 <<sexual>> here."
    progress: list[tuple[int, int]] = []
    result = screen(
        passages(*texts), moderator, progress=lambda done, total: progress.append((done, total))
    )
    assert [len(r.inputs) for r in server.moderations] == [32, 8]
    assert [r.inputs for r in server.moderations] == [texts[:32], texts[32:]]
    assert progress == [(32, 40), (40, 40)]
    (flag,) = result.flags
    expected = passages(*texts)[35]
    assert (flag.start, flag.end, flag.categories) == (expected.start, expected.end, ("sexual",))
    assert result.checked == result.by_openai == 40


# -- failures -------------------------------------------------------------------------------


def test_401_is_not_retried_and_falls_back(
    server: ModerationServer, moderator: OpenAIModerator
) -> None:
    server.script("401")
    result = screen(passages("Kill them all!", "Calm."), moderator)
    assert len(server.moderations) == 1
    assert result.error is not None
    assert "The key was refused" in result.error
    assert "HTTP 401" in result.error
    assert "offline phrase checker screened 2 passages instead" in result.error
    assert result.statement == (
        f"OpenAI moderation failed ({moderator.host} refused the key, HTTP 401); the offline "
        "checker screened the text instead."
    )
    assert result.source_note == f"{result.statement} 2 passages checked."
    assert result.fell_back
    assert result.by_openai == 0
    assert [(f.categories, f.source) for f in result.flags] == [(("violence",), "offline")]


def test_401_raises_auth_error(server: ModerationServer, moderator: OpenAIModerator) -> None:
    server.script("401")
    with pytest.raises(ProviderError) as info:
        moderator.classify_batch(["x"])
    assert info.value.kind is FailureKind.AUTH
    assert info.value.opens_settings


def test_429_then_ok_is_retried(server: ModerationServer, moderator: OpenAIModerator) -> None:
    server.script("429")
    result = screen(passages("Calm <<violence>> text."), moderator)
    assert [r.behaviour for r in server.moderations] == ["429", "ok"]
    assert result.error is None
    assert [f.source for f in result.flags] == ["openai"]
    assert result.retries == ["attempt 1: HTTP 429, waited 0 s"]


def test_500_three_times_falls_back_with_a_note(
    server: ModerationServer, moderator: OpenAIModerator
) -> None:
    server.script("500", "500", "500")
    started = time.perf_counter()
    result = screen(passages("Kill them all!", "<<violence>> but calm"), moderator)
    assert time.perf_counter() - started < 5
    assert [r.behaviour for r in server.moderations] == ["500", "500", "500"]
    assert result.error is not None
    assert "failed with HTTP 500 after 3 tries" in result.error
    assert "offline phrase checker screened 2 passages instead" in result.error
    assert result.statement == (
        f"OpenAI moderation failed ({moderator.host} answered HTTP 500 after 3 tries); the "
        "offline checker screened the text instead."
    )
    assert result.source_note.startswith(result.statement)
    assert [(f.start, f.categories, f.source) for f in result.flags] == [
        (0, ("violence",), "offline")
    ]
    assert len(result.retries) == 2


def test_500_then_ok_recovers(server: ModerationServer, moderator: OpenAIModerator) -> None:
    server.script("500", "500")
    result = screen(passages("<<hate>>"), moderator)
    assert result.error is None
    assert [f.categories for f in result.flags] == [("hate",)]
    assert len(server.moderations) == 3


def test_failure_midway_keeps_what_openai_screened(
    server: ModerationServer, moderator: OpenAIModerator
) -> None:
    texts = [f"Paragraph {i}." for i in range(40)]
    texts[3] = "<<self-harm/intent>> paragraph 3."
    texts[38] = "Kill them all, paragraph 38."
    server.script("ok", "500", "500", "500")
    result = screen(passages(*texts), moderator)
    assert result.by_openai == 32
    assert result.checked == 40
    assert [(f.categories, f.source) for f in result.flags] == [
        (("self-harm",), "openai"),
        (("violence",), "offline"),
    ]
    assert (
        result.source_note
        == result.statement
        == (
            f"OpenAI moderation failed ({moderator.host} answered HTTP 500 after 3 tries) after "
            "screening 32 of 40 passages; the offline checker screened the other 8 instead."
        )
    )
    assert result.error is not None
    assert "screened 8 passages instead" in result.error


def test_timeout_falls_back(server: ModerationServer) -> None:
    server.script("timeout")
    moderator = OpenAIModerator(server.url, KEY, timeout=0.4, backoff=0.01)
    try:
        started = time.perf_counter()
        result = screen(passages("Kill them all!"), moderator)
        assert time.perf_counter() - started < 2.5
    finally:
        moderator.close()
    assert len(server.moderations) == 1  # a timeout is not retried
    assert result.error is not None
    assert "did not answer within 0.4 seconds" in result.error
    assert [f.source for f in result.flags] == ["offline"]


def test_connection_refused_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    moderator = OpenAIModerator(url, KEY, timeout=2.0, backoff=0.01)
    try:
        with pytest.raises(ProviderError) as info:
            moderator.classify_batch(["x"])
        result = screen(passages("Kill them all!"), moderator)
    finally:
        moderator.close()
    assert info.value.kind is FailureKind.CONNECTION
    assert url in str(info.value)
    assert "connection refused" in str(info.value)
    assert result.error is not None
    assert url in result.error
    assert [f.source for f in result.flags] == ["offline"]


@pytest.mark.parametrize(
    ("behaviour", "detail"),
    [
        ("malformed", "it is not JSON"),
        ("short", "1 results for 2 passages"),
        ("noresults", "it has no list of results"),
    ],
)
def test_unreadable_reply_falls_back(
    server: ModerationServer, moderator: OpenAIModerator, behaviour: str, detail: str
) -> None:
    server.script(behaviour)
    result = screen(passages("Kill them all!", "Calm."), moderator)
    assert len(server.moderations) == 1
    assert result.error is not None
    assert "sent a reply Coauthor cannot read" in result.error
    assert detail in result.error
    assert [f.source for f in result.flags] == ["offline"]
    server.script(behaviour)
    with pytest.raises(ProviderError) as info:
        moderator.classify_batch(["a", "b"])
    assert info.value.kind is FailureKind.MALFORMED


def test_no_moderation_endpoint(server: ModerationServer) -> None:
    moderator = OpenAIModerator(server.url.removesuffix("/v1"), KEY, backoff=0.01)
    try:
        result = screen(passages("Kill them all!"), moderator)
    finally:
        moderator.close()
    assert result.error is not None
    assert "has no moderation endpoint (HTTP 404" in result.error
    assert [f.source for f in result.flags] == ["offline"]


def test_classify_batch_refuses_more_than_32(moderator: OpenAIModerator) -> None:
    with pytest.raises(ValueError, match="at most 32"):
        moderator.classify_batch(["x"] * 33)


# -- which screener ---------------------------------------------------------------------------


def test_moderator_only_for_openai_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert moderator_for(ProviderConfig(kind=ProviderKind.EMBEDDED)) is None
    compatible = ProviderConfig(kind=ProviderKind.COMPATIBLE, base_url="http://127.0.0.1:1/v1")
    assert moderator_for(compatible) is None
    openai_config = ProviderConfig(kind=ProviderKind.OPENAI)
    assert moderator_for(openai_config) is None  # no key anywhere (the conftest isolates them)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    moderator = moderator_for(openai_config)
    assert moderator is not None
    try:
        assert moderator.base_url == "https://api.openai.com/v1"
        assert moderator.model == DEFAULT_MODEL
    finally:
        moderator.close()


def test_moderator_for_uses_the_configured_url(
    server: ModerationServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    moderator = moderator_for(ProviderConfig(kind=ProviderKind.OPENAI, base_url=server.url))
    assert moderator is not None
    try:
        result = screen(passages("<<sexual/minors>>"), moderator)
    finally:
        moderator.close()
    assert [f.categories for f in result.flags] == [("sexual",)]
    assert server.moderations[0].authorization == f"Bearer {KEY}"
