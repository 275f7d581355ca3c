"""Secrets never leave the keyring, against real loopback servers through the ``openai`` SDK.

- A server that echoes the API key in a 400 answer (``echo-key``): the error the author sees,
  the generation record, the logs and the traceback hold no piece of the key longer than its
  masked form (``keys.mask``), through ``ModelClient`` and through the moderation client.
- A key is never sent over plain ``http://`` to another computer: the clients refuse at
  request time, ``coauthor`` refuses ``--moderation-url`` at once; a local server over http and
  any https address are fine.
- When the chosen moderation service fails, the offline checker screens every passage and the
  export says so: on stderr, in the summary, and in the provenance report.
"""

from __future__ import annotations

import itertools
import logging
import os
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from chat_server import Behaviour, ChatServer
from moderation_server import ModerationServer

from coauthor.ai import keys
from coauthor.ai.client import ModelClient
from coauthor.ai.errors import FailureKind, ProviderError, insecure_url, is_loopback, redact
from coauthor.ai.moderation import OpenAIModerator, moderator_for
from coauthor.ai.prompts import Mode, build_request
from coauthor.ai.service import ProviderConfig, ProviderKind, Providers, generate
from coauthor.app.export import ExportFormat, export_project, screen_project
from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish.document import prepare_export
from coauthor.publish.report import ScreeningNote, render_report
from coauthor.screening.passages import Passage
from coauthor.screening.screen import screen
from coauthor.store import ProjectFile

KEY = "sk-proj-Qz7Xw4Rt9Yp2Lm5Nb8Vc3Hd6Jf1Gk0"
MASKED = keys.mask(KEY)
REMOTE = "http://192.0.2.10:8080/v1"
"""A plain-http address of another computer (TEST-NET-1: nothing is ever sent there)."""
MESSAGES = [{"role": "user", "content": "Continue: It was raining."}]


def pieces_of_key(text: str, size: int = 5) -> list[str]:
    """The pieces of ``KEY`` of ``size`` characters in ``text``: longer than anything its
    masked form shows (the first three and last four characters)."""
    return [KEY[i : i + size] for i in range(len(KEY) - size + 1) if KEY[i : i + size] in text]


def assert_no_key(*texts: str) -> None:
    for text in texts:
        assert pieces_of_key(text) == [], text


@pytest.fixture
def moderation() -> Iterator[ModerationServer]:
    server = ModerationServer({"<<violence>>": ("violence",)}).start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.errors, f"the moderation server failed: {server.errors}"


# -- redaction ----------------------------------------------------------------------------------


def test_redact_masks_the_key_its_pieces_bearer_values_and_key_like_tokens() -> None:
    assert redact(f"key {KEY}.", KEY) == f"key {MASKED}."
    assert MASKED == "sk-…1Gk0"
    assert_no_key(redact(f"cut short: {KEY[:20]}… and the rest {KEY[20:]}", KEY))
    assert_no_key(redact(f"glued:{KEY[4:30]}:here", KEY))
    assert redact("Authorization: Bearer abcdefghijkl1234") == "Authorization: Bearer abc…1234"
    assert redact("another sk-abcdefghijklmnop1234 key") == "another sk-…1234 key"
    # What is not a key is left alone, and a server's own masking is kept.
    plain = "Incorrect API key provided: sk-te**********1234. The service may be down."
    assert redact(plain, KEY) == plain
    assert redact("HTTP 400 from 127.0.0.1:8080", None, "") == "HTTP 400 from 127.0.0.1:8080"


def test_a_provider_error_is_redacted_whoever_makes_it() -> None:
    error = ProviderError(FailureKind.BAD_REQUEST, f"echo {KEY} Bearer {KEY}", secrets=(KEY,))
    assert str(error) == f"echo {MASKED} Bearer {MASKED}"
    assert_no_key(str(ProviderError(FailureKind.BAD_REQUEST, f"no secret given: {KEY}")))


# -- a 400 that echoes the key ------------------------------------------------------------------


def test_a_400_echoing_the_key_through_model_client_shows_only_the_masked_key(
    chat_server: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the SDK's and httpx's logs too
    chat_server.script(Behaviour("echo-key"))
    client = ModelClient(chat_server.url, KEY, "test-model", timeout=3.0, backoff=0.01)
    try:
        with pytest.raises(ProviderError) as info:
            client.stream_chat(MESSAGES, max_tokens=20)
    finally:
        client.close()
    error = info.value
    assert error.kind is FailureKind.BAD_REQUEST
    assert error.status == 400
    assert chat_server.requests[-1].behaviour == "echo-key"
    message = str(error)
    assert message.startswith(f"127.0.0.1:{chat_server.port} refused the request (HTTP 400)")
    assert MASKED in message  # the author can still tell which key it was
    assert_no_key(message, caplog.text, "".join(traceback.format_exception(error)))


def test_a_400_echoing_the_key_through_generate_keeps_it_out_of_the_record(
    chat_server: ChatServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(keys, "get_key", lambda account: (KEY, "keyring"))
    chat_server.script(Behaviour("echo-key"))
    config = ProviderConfig(
        kind=ProviderKind.COMPATIBLE, base_url=chat_server.url, model="test-model", timeout=3
    )
    providers = Providers(config)
    ids = (f"g{n}" for n in itertools.count(1))
    ticks = itertools.count(1000, 10)
    try:
        run = generate(
            providers,
            build_request(Mode.CONTINUE, before="It was raining.", max_tokens=20),
            new_id=lambda: next(ids),
            clock=lambda: next(ticks),
        )
    finally:
        providers.close()
    [record] = run.records
    assert run.error is not None
    assert "HTTP 400" in record.error
    assert_no_key(record.error, str(run.error), caplog.text)


def test_a_400_echoing_the_key_through_the_moderation_client_shows_only_the_masked_key(
    moderation: ModerationServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    moderation.script("echo-key", "echo-key")
    moderator = OpenAIModerator(moderation.url, KEY, timeout=3.0, backoff=0.01)
    try:
        with pytest.raises(ProviderError) as info:
            moderator.classify_batch(["A quiet harbour."])
        result = screen([Passage(1, 0, 14, "Kill them all!")], moderator)
    finally:
        moderator.close()
    assert [r.authorization for r in moderation.moderations] == [f"Bearer {KEY}"] * 2
    assert info.value.kind is FailureKind.BAD_REQUEST
    assert "refused the request (HTTP 400)" in str(info.value)
    assert result.error is not None
    assert result.fell_back
    assert [f.source for f in result.flags] == ["offline"]
    assert_no_key(
        str(info.value),
        result.error,
        result.statement,
        result.source_note,
        caplog.text,
        "".join(traceback.format_exception(info.value)),
    )


def test_retries_are_logged_without_the_servers_text(
    moderation: ModerationServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="coauthor")
    moderation.script("500")
    moderator = OpenAIModerator(moderation.url, KEY, backoff=0.01)
    try:
        assert screen([Passage(1, 0, 6, "Calm.")], moderator).error is None
    finally:
        moderator.close()
    [line] = [r.getMessage() for r in caplog.records if r.name == "coauthor.ai.moderation"]
    assert (
        line == f"moderation attempt 1 failed (HTTP 500 from {moderator.host}); retrying in 0.01 s"
    )


# -- no key over plain http to another computer ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "key", "refused"),
    [
        ("http://192.0.2.10:8080/v1", KEY, True),
        ("http://api.example.com/v1", KEY, True),
        ("HTTP://10.0.0.7/v1", KEY, True),
        ("http://[2001:db8::1]:8080/v1", KEY, True),
        ("http://localhost.example.com/v1", KEY, True),
        ("http://127.0.0.1:11434/v1", KEY, False),
        ("http://127.8.9.10/v1", KEY, False),
        ("http://[::1]:8080/v1", KEY, False),
        ("http://localhost:1234/v1", KEY, False),
        ("http://LOCALHOST/v1", KEY, False),
        ("https://api.example.com/v1", KEY, False),
        ("https://192.0.2.10/v1", KEY, False),
        ("http://192.0.2.10:8080/v1", None, False),
        ("http://192.0.2.10:8080/v1", "", False),
    ],
)
def test_which_addresses_may_get_a_key(url: str, key: str | None, refused: bool) -> None:
    refusal = insecure_url(url, key)
    assert (refusal is not None) is refused
    if refusal is not None:
        host = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]").lower()
        if host.count(":") == 0 and "." in host:
            assert host in refusal.lower()
        assert refusal.endswith("; use its https:// address.")


def test_loopback_is_127_8_ipv6_one_and_localhost() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.255.0.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["128.0.0.1", "10.0.0.1", "example.com", "::2", ""]))


def test_model_client_refuses_to_send_a_key_over_http_to_another_computer() -> None:
    client = ModelClient(REMOTE, KEY, "test-model", timeout=2.0)
    try:
        with pytest.raises(ProviderError) as streamed:
            client.stream_chat(MESSAGES)
        with pytest.raises(ProviderError) as listed:
            client.list_models()
        verdict = client.test_connection()
    finally:
        client.close()
    for error in (streamed.value, listed.value):
        assert error.kind is FailureKind.INSECURE
        assert error.opens_settings
        assert str(error) == (
            "Coauthor will not send the API key to 192.0.2.10 over plain http://, where anyone "
            "on the network could read it; use its https:// address."
        )
    assert not verdict.ok
    assert "192.0.2.10" in verdict.message


def test_generation_with_a_stored_key_and_a_remote_http_server_is_a_failed_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keys, "get_key", lambda account: (KEY, "keyring"))
    config = ProviderConfig(kind=ProviderKind.COMPATIBLE, base_url=REMOTE, model="m", timeout=2)
    providers = Providers(config)
    try:
        run = generate(
            providers,
            build_request(Mode.CONTINUE, before="It was raining.", max_tokens=20),
            new_id=lambda: "g1",
            clock=lambda: 1000,
        )
    finally:
        providers.close()
    assert run.error is not None
    assert run.error.kind is FailureKind.INSECURE
    assert "use its https:// address" in run.records[0].error


def test_a_local_server_over_http_gets_the_key(chat_server: ChatServer) -> None:
    client = ModelClient(chat_server.url, KEY, "test-model", timeout=3.0)
    try:
        assert client.stream_chat(MESSAGES, max_tokens=20).text
    finally:
        client.close()


def test_moderation_over_http_to_another_computer_falls_back_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(keys.ENV_VARIABLE, KEY)
    moderator = moderator_for(ProviderConfig(kind=ProviderKind.OPENAI, base_url=REMOTE))
    assert moderator is not None
    try:
        result = screen([Passage(1, 0, 14, "Kill them all!")], moderator)
    finally:
        moderator.close()
    assert moderator.requests == 0  # nothing was sent
    assert result.fell_back
    assert result.statement == (
        "OpenAI moderation failed (Coauthor will not send the key to 192.0.2.10:8080 over plain "
        "http://); the offline checker screened the text instead."
    )
    assert result.error is not None
    assert "use its https:// address" in result.error
    assert [f.source for f in result.flags] == ["offline"]


# -- the moderation fallback in the export ------------------------------------------------------


def test_the_report_states_the_screening_that_ran() -> None:
    document = prepare_export(_calm_project())
    statement = (
        "OpenAI moderation failed (x answered HTTP 500 after 3 tries); the offline checker "
        "screened the text instead."
    )
    html = render_report(document, generated_at="x", screening=ScreeningNote(statement, True))
    assert (
        '<p id="screening" class="screening error">Content screening for this export: '
        f"{statement}</p>"
    ) in html
    # Rendered outside an export, the report does not claim any screening.
    assert "Content screening for this export" not in render_report(document, generated_at="x")


def test_export_project_falls_back_and_the_report_says_so(
    moderation: ModerationServer, tmp_path: Path
) -> None:
    project = _calm_project()
    moderation.script("500", "500", "500")
    moderator = OpenAIModerator(moderation.url, KEY, backoff=0.01)
    seen = []
    try:
        path = export_project(
            project,
            ExportFormat.REPORT,
            tmp_path / "report.html",
            moderator=moderator,
            on_screening=seen.append,
        )
    finally:
        moderator.close()
    [summary] = seen
    statement = (
        f"OpenAI moderation failed ({moderator.host} answered HTTP 500 after 3 tries); the "
        "offline checker screened the text instead."
    )
    assert summary.fell_back
    assert summary.statement == statement
    assert summary.note.startswith(statement)
    assert summary.error is not None
    assert "HTTP 500" in summary.error
    html = path.read_text(encoding="utf-8")
    assert f"Content screening for this export: {statement}" in html
    assert len(moderation.moderations) == 3


def test_export_project_with_working_moderation_says_which_screener_ran(
    moderation: ModerationServer, tmp_path: Path
) -> None:
    moderator = OpenAIModerator(moderation.url, KEY, backoff=0.01)
    try:
        summary = screen_project(_calm_project(), moderator)
        path = export_project(
            _calm_project(), ExportFormat.REPORT, tmp_path / "r.html", moderator=moderator
        )
    finally:
        moderator.close()
    assert not summary.fell_back
    assert summary.statement.startswith("Screened by OpenAI's moderation endpoint")
    html = path.read_text(encoding="utf-8")
    assert "Content screening for this export: Screened by OpenAI&#39;s moderation endpoint" in html
    offline = export_project(_calm_project(), ExportFormat.REPORT, tmp_path / "o.html")
    assert (
        "Content screening for this export: Screened offline by Coauthor&#39;s phrase checker"
        in offline.read_text(encoding="utf-8")
    )


def _calm_project() -> Project:
    project = Project(BookMeta(title="Calm", author="A. Writer"))
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "A quiet harbour.\n\nRain on the roofs.", Origin.HUMAN)
    return project


# -- the real command ---------------------------------------------------------------------------


def _cli_env(key: str | None = KEY) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # no real keyring, unsigned
    env.pop(keys.ENV_VARIABLE, None)
    if key:
        env[keys.ENV_VARIABLE] = key
    return env


@pytest.fixture
def calm_book(tmp_path: Path) -> Path:
    """A book with two calm paragraphs written by the author: nothing blocks its export."""
    book = tmp_path / "calm.coauthor"
    project = _calm_project()
    ProjectFile.create(book, project.meta).close(project)
    return book


def test_cli_export_falls_back_when_moderation_answers_500_and_says_so(
    cli, calm_book: Path, moderation: ModerationServer, tmp_path: Path
) -> None:
    moderation.script("500", "500", "500")
    out = tmp_path / "report.html"
    result = cli(
        "export",
        calm_book,
        "--format",
        "report",
        "--out",
        out,
        "--moderation",
        "openai",
        "--moderation-url",
        moderation.url,
        env=_cli_env(),
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert [r.behaviour for r in moderation.moderations] == ["500", "500", "500"]
    assert [r.authorization for r in moderation.moderations] == [f"Bearer {KEY}"] * 3
    statement = (
        f"OpenAI moderation failed (127.0.0.1:{moderation.port} answered HTTP 500 after 3 "
        "tries); the offline checker screened the text instead."
    )
    assert f"coauthor: {statement} 2 passages checked." in stderr.splitlines()
    assert "failed with HTTP 500 after 3 tries" in stderr
    assert f"Exported report to {out}" in stderr
    html = out.read_text(encoding="utf-8")
    assert f"Content screening for this export: {statement}" in html
    assert_no_key(stderr, html)


def test_cli_export_with_a_key_echoing_moderation_service_prints_no_key(
    cli, calm_book: Path, moderation: ModerationServer, tmp_path: Path
) -> None:
    moderation.script("echo-key")
    result = cli(
        "screen",
        calm_book,
        "--moderation",
        "openai",
        "--moderation-url",
        moderation.url,
        env=_cli_env(),
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert "refused the request (HTTP 400)" in stderr
    assert "the offline checker screened the text instead" in stderr
    assert MASKED in stderr
    assert_no_key(stderr, result.stdout.decode())


@pytest.mark.parametrize("command", ["screen", "export"])
def test_cli_refuses_a_plain_http_moderation_url_of_another_computer(
    cli, calm_book: Path, tmp_path: Path, command: str
) -> None:
    extra = ["--format", "html", "--out", tmp_path / "x.html"] if command == "export" else []
    result = cli(
        command,
        calm_book,
        *extra,
        "--moderation",
        "openai",
        "--moderation-url",
        REMOTE,
        env=_cli_env(),
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert stderr.splitlines() == [
        (
            "coauthor: --moderation-url: Coauthor will not send the API key to 192.0.2.10 over "
            "plain http://, where anyone on the network could read it; use its https:// address"
        )
    ]
    assert not (tmp_path / "x.html").exists()
