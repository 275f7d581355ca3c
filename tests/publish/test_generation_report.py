"""Reporting a problematic generation: the file for the provider, the chain event, the command.

The file is a zip of ``report.json`` and ``report.txt``. It must hold every field a provider
asks for, the surrounding text only when asked (a bounded window), the disclosure process for a
security issue, and never an API key, even one the server echoed back. The report is recorded
in the history (``coauthor verify`` accepts it) and listed in the provenance report.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from chat_server import Behaviour, ChatServer

from coauthor.ai import keys
from coauthor.ai.prompts import Mode, build_request
from coauthor.ai.service import ProviderConfig, ProviderKind, Providers, generate
from coauthor.app.sample import build_sample
from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome
from coauthor.core.origin import Origin
from coauthor.core.project import Project, ProjectError
from coauthor.publish.document import ExportWriteError, build_document
from coauthor.publish.generation_report import (
    CONTEXT_CHARS,
    OPENAI_DISCLOSURE,
    report_generation,
)
from coauthor.publish.report import render_report
from coauthor.store import ProjectFile

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
KEY = "sk-proj-Rp4Wd8Kq2Zx7Mn3Bv6Ct9Gh1Js5Lf0Ya"


def _read(path: Path) -> tuple[dict[str, Any], str]:
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["report.json", "report.txt"]
        return json.loads(archive.read("report.json")), archive.read("report.txt").decode()


def _book(provider: str = "openai", *, before: int = 3000, after: int = 2500) -> Project:
    """A chapter with ``before`` characters of the author's text, the model's passage, then
    ``after`` more characters of the author's."""
    project = Project(BookMeta(title="Tides", author="Ada Marlowe"), clock=lambda: T0 + 90_000)
    chapter = project.add_chapter("The Storm")
    output = "The lighthouse keeper was born in 1492 on the moon."
    project.add_generation(
        Generation(
            "g1",
            provider,
            "gpt-4o-mini",
            {"mode": "continue", "temperature": 0.7, "max_tokens": 60},
            [
                {"role": "system", "content": "You are a careful co-writer."},
                {"role": "user", "content": "Continue: The storm came."},
            ],
            output,
            Outcome.COMPLETE,
            T0,
            T0 + 2_500,
            chapter.id,
            timing={"first_token_s": 0.4, "total_s": 2.5, "chunks": 12},
        )
    )
    project.insert(chapter, 0, "b" * (before - 1) + "<", Origin.HUMAN)
    project.insert(chapter, before, output, Origin.AI, "g1")
    project.insert(chapter, len(chapter.text), ">" + "a" * (after - 1), Origin.HUMAN)
    return project


def test_the_file_holds_every_field_a_provider_asks_for(tmp_path: Path) -> None:
    project = _book()
    bundle = report_generation(
        project,
        "g1",
        "factual error",
        "  Columbus sailed in 1492; nobody was born on the moon.  ",
        by="Ada Marlowe",
        include_context=False,
        target=tmp_path / "report.zip",
    )
    data, text = _read(tmp_path / "report.zip")
    assert data == bundle.data
    generation = data["generation"]
    assert generation["provider"] == "openai"
    assert generation["model"] == "gpt-4o-mini"
    assert generation["parameters"] == {"mode": "continue", "temperature": 0.7, "max_tokens": 60}
    assert [m["role"] for m in generation["messages"]] == ["system", "user"]
    assert generation["messages"][1]["content"] == "Continue: The storm came."
    assert generation["output"] == "The lighthouse keeper was born in 1492 on the moon."
    assert generation["timing"]["requested"] == "2026-01-01T00:00:00Z"
    assert generation["timing"]["first_token"] == "2026-01-01T00:00:00Z"
    assert generation["timing"]["first_token_ms"] == T0 + 400
    assert generation["timing"]["finished"] == "2026-01-01T00:00:02Z"
    assert data["coauthor_version"]
    assert data["report"]["category"] == "factual error"
    assert data["report"]["reason"] == "Columbus sailed in 1492; nobody was born on the moon."
    assert data["report"]["reported_by"] == "Ada Marlowe"
    assert data["report"]["reported_at"] == "2026-01-01T00:01:30Z"
    assert data["surrounding_text"] is None
    # The readable file says the same, and that Coauthor sent nothing.
    for line in (
        "Category:     factual error",
        "Model:        gpt-4o-mini",
        "Provider:     openai",
        "First token:  2026-01-01T00:00:00Z",
        f"Coauthor:     {data['coauthor_version']}",
        "    Columbus sailed in 1492; nobody was born on the moon.",
        "    Continue: The storm came.",
        "Coauthor has sent nothing",
        "Not included (the author chose not to send the book's text).",
    ):
        assert line in text
    assert "bbbb" not in text
    assert "aaaa" not in text
    # The history holds the report, with the file's hash and the same time.
    [report] = project.reports
    assert (
        report.bundle_sha256 == hashlib.sha256((tmp_path / "report.zip").read_bytes()).hexdigest()
    )
    assert (report.category, report.context, report.time) == ("factual error", False, T0 + 90_000)


def test_the_surrounding_text_is_a_window_of_a_thousand_characters(tmp_path: Path) -> None:
    project = _book(before=3000, after=2500)
    report_generation(
        project,
        "g1",
        "harmful",
        "It misleads readers.",
        by="Ada",
        include_context=True,
        target=tmp_path / "r.zip",
    )
    data, text = _read(tmp_path / "r.zip")
    context = data["surrounding_text"]
    assert context["characters_either_side"] == CONTEXT_CHARS == 1000
    assert context["before"] == "b" * 999 + "<"
    assert context["passage"] == "The lighthouse keeper was born in 1492 on the moon."
    assert context["after"] == ">" + "a" * 999
    assert "with up to 1,000 characters before and after it" in text
    assert "b" * 1000 not in text
    assert "a" * 1000 not in text


def test_a_short_chapter_gives_what_there_is(tmp_path: Path) -> None:
    project = _book(before=5, after=3)
    report_generation(
        project, "g1", "biased", "Bias.", by="", include_context=True, target=tmp_path / "r.zip"
    )
    context = _read(tmp_path / "r.zip")[0]["surrounding_text"]
    assert (context["before"], context["after"]) == ("bbbb<", ">aa")


@pytest.mark.parametrize(
    ("provider", "words"),
    [
        ("openai", OPENAI_DISCLOSURE),
        ("compatible", "privately to whoever runs that server"),
        ("embedded", "privately to the maintainers of the model file"),
    ],
)
def test_a_security_issue_points_to_coordinated_disclosure(
    tmp_path: Path, provider: str, words: str
) -> None:
    project = _book(provider)
    report_generation(
        project,
        "g1",
        "security issue",
        "The output contains a working exploit.",
        by="Ada",
        include_context=False,
        target=tmp_path / "r.zip",
    )
    data, text = _read(tmp_path / "r.zip")
    assert words in " ".join(text.split())
    assert data["what_to_do"] in text
    assert ("disclosure" in text) is (provider == "openai")


def test_a_file_that_cannot_be_written_records_nothing(tmp_path: Path) -> None:
    project = _book()
    (tmp_path / "taken").mkdir()
    events = project.history.last_seq + len(project.history.pending)
    with pytest.raises(ExportWriteError):
        report_generation(
            project, "g1", "harmful", "Harm.", by="Ada", include_context=False,
            target=tmp_path / "taken",
        )  # fmt: skip
    assert project.reports == []
    assert project.history.last_seq + len(project.history.pending) == events
    with pytest.raises(ProjectError, match="needs a reason"):
        report_generation(
            project, "g1", "harmful", "", by="Ada", include_context=False,
            target=tmp_path / "r.zip",
        )  # fmt: skip
    assert not (tmp_path / "r.zip").exists()


def test_no_api_key_reaches_the_file(
    tmp_path: Path,
    chat_server: ChatServer,
    memory_keyring: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real generations through a server that requires the key and, once, echoes it back."""
    monkeypatch.setenv(keys.ENV_VARIABLE, KEY)
    config = ProviderConfig(kind=ProviderKind.COMPATIBLE, base_url=chat_server.url, model="m")
    keys.set_key(config.key_account, KEY)
    providers = Providers(config)
    project = Project(BookMeta(title="Tides"), clock=lambda: T0)
    chapter = project.add_chapter("One")
    ids = (f"g{n}" for n in itertools.count(1))
    chat_server.script("echo-key", Behaviour("ok", text="The sea was loud."))
    try:
        for _ in range(2):
            run = generate(
                providers,
                build_request(Mode.CONTINUE, before="It rained.", max_tokens=20),
                new_id=lambda: next(ids),
                clock=lambda: T0,
                chapter_id=chapter.id,
            )
            for record in run.records:
                project.add_generation(record)
    finally:
        providers.close()
    assert [r.behaviour for r in chat_server.plain] == ["echo-key", "ok"]  # Continue: plain
    failed, answered = project.generations["g1"], project.generations["g2"]
    assert failed.outcome is Outcome.FAILED
    assert failed.error
    assert answered.output == "The sea was loud."
    project.insert(chapter, 0, answered.output, Origin.AI, "g2")
    for gid in ("g1", "g2"):
        target = tmp_path / f"{gid}.zip"
        report_generation(
            project, gid, "security issue", "Leaks?", by="Ada", include_context=True, target=target
        )
        raw = target.read_bytes()
        with zipfile.ZipFile(target) as archive:
            unpacked = b"".join(archive.read(name) for name in archive.namelist())
        for secret in (KEY, KEY[3:], KEY[-12:]):
            assert secret.encode() not in raw
            assert secret.encode() not in unpacked
    assert _read(tmp_path / "g2.zip")[0]["generation"]["model"] == "m"


# -- the command and the provenance report ------------------------------------------------------


def test_the_command_writes_the_file_records_it_and_the_report_lists_it(
    cli, tmp_path: Path
) -> None:
    book = build_sample(tmp_path / "book.coauthor")
    out = tmp_path / "out" / "g2-report.zip"
    env = {
        **os.environ,
        keys.ENV_VARIABLE: KEY,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    result = cli(
        "report-generation", book, "--generation", "g2", "--category", "factual error",
        "--reason", "The sun does not lift at nightfall.", "--context", "--out", out, env=env,
    )  # fmt: skip
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert f"Wrote the report of g2 (factual error, with the surrounding text) to {out}" in stderr
    assert "Coauthor has sent nothing" in stderr
    assert "Send the report to the maintainers of the model file" in stderr
    data, text = _read(out)
    assert KEY not in text
    assert KEY not in json.dumps(data)
    generation = data["generation"]
    assert (generation["id"], generation["provider"]) == ("g2", "embedded")
    assert generation["model"] == "SmolLM2-135M-Instruct (Q4_1)"
    assert generation["parameters"] == {"max_tokens": 100, "seed": 7, "temperature": 0.8}
    assert generation["messages"][-1]["content"].startswith("Continue: The storm came on")
    assert generation["output"].startswith("The storm finally came to an end.")
    assert generation["timing"]["requested"]
    assert generation["timing"]["finished"]
    assert data["report"]["category"] == "factual error"
    assert data["report"]["reason"] == "The sun does not lift at nightfall."
    assert data["report"]["reported_by"] == "Ada Marlowe"  # the book's author
    assert data["coauthor_version"]
    assert data["surrounding_text"]["before"].startswith("The storm came on the longest night")
    verified = cli("verify", book, env=env)
    assert verified.returncode == 0, verified.stderr
    log = cli("log", book, env=env).stdout.decode()
    assert '"category": "factual error"' in log.splitlines()[-1]

    project_file = ProjectFile.open(book, readonly=True)
    try:
        project = project_file.load()
    finally:
        project_file.close()
    [report] = project.reports
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert report.bundle_sha256 == digest
    page = render_report(build_document(project), generated_at="2026-01-02T03:04:05Z")
    section = page[page.index('<section id="reports"') : page.index('<section id="imports"')]
    assert "The sun does not lift at nightfall." in section
    assert "factual error" in section
    assert "Ada Marlowe" in section
    assert digest in section
    assert '<a href="#generation-g2">g2</a>' in section


def test_the_command_refuses_an_empty_reason_in_one_sentence(cli, tmp_path: Path) -> None:
    book = build_sample(tmp_path / "book.coauthor")
    out = tmp_path / "r.zip"
    result = cli("report-generation", book, "--generation", "g2", "--reason", " ", "--out", out)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "coauthor: a report needs a reason: say what is wrong with the generation\n"
    )
    assert not out.exists()
    result = cli("report-generation", book, "--generation", "g5", "--reason", "x", "--out", out)
    assert result.stderr.decode() == "coauthor: the record holds no generation g5\n"
