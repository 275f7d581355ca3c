"""The twelve CoAuthor study sessions: ``import``, ``stats --json`` and ``cat`` reproduce
``data/coauthor/truth.json`` exactly (final text, final characters by source, characters
inserted by source), with one pending generation per accepted suggestion."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coauthor.core.generation import ReviewState
from coauthor.core.origin import Origin
from coauthor.store import ProjectFile

DATA = Path(__file__).resolve().parents[2] / "data" / "coauthor"
TRUTH = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))
SESSIONS = sorted(TRUTH)
MODEL = "GPT-3 (CoAuthor study)"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, cli) -> tuple[Path, dict, str]:
    """All twelve logs imported into one new project with one command; its stats."""
    project = tmp_path_factory.mktemp("sessions") / "study.coauthor"
    logs = [DATA / f"{session}.jsonl.gz" for session in SESSIONS]
    result = cli("import", *logs, "--into", project)
    assert result.returncode == 0, result.stderr
    stats = cli("stats", project, "--json")
    assert stats.returncode == 0, stats.stderr
    return project, json.loads(stats.stdout), result.stderr.decode()


def _chapter(stats: dict, session: str) -> dict:
    matches = [c for c in stats["chapters"] if c["title"] == session]
    assert len(matches) == 1, [c["title"] for c in stats["chapters"]]
    return matches[0]


def test_the_data_has_twelve_sessions() -> None:
    assert len(SESSIONS) == 12
    assert sorted(p.name.removesuffix(".jsonl.gz") for p in DATA.glob("*.jsonl.gz")) == SESSIONS


def test_each_log_is_one_chapter_titled_with_its_session(imported) -> None:
    _, stats, messages = imported
    assert sorted(c["title"] for c in stats["chapters"]) == SESSIONS
    for session in SESSIONS:
        assert f"{session}.jsonl.gz as 1 chapter" in messages


@pytest.mark.parametrize("session", SESSIONS)
def test_cat_gives_the_final_text(imported, cli, session: str) -> None:
    project, _, _ = imported
    result = cli("cat", project, "--chapter", session)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode("utf-8") == TRUTH[session]["text"]


@pytest.mark.parametrize("session", SESSIONS)
def test_final_characters_by_source(imported, session: str) -> None:
    chars = _chapter(imported[1], session)["chars"]
    truth = TRUTH[session]["final_chars"]
    assert chars == {
        "imported": truth["prompt"],
        "human": truth["human"],
        "ai": truth["ai"],
        "pasted": 0,
    }


@pytest.mark.parametrize("session", SESSIONS)
def test_inserted_characters_by_source(imported, session: str) -> None:
    inserted = _chapter(imported[1], session)["process"]["inserted"]
    truth = TRUTH[session]["inserted_chars"]
    assert inserted["human"] == truth["human"]
    assert inserted["ai"] == truth["ai"]
    assert inserted["pasted"] == 0
    assert inserted["imported"] >= TRUTH[session]["final_chars"]["prompt"]  # the prompt, once
    # The study's own figure follows from these (a process measure, not a share of the text).
    share = round(100 * inserted["human"] / (inserted["human"] + inserted["ai"]))
    assert share == TRUTH[session]["written_by_human"]


def test_one_pending_generation_per_accepted_suggestion(imported) -> None:
    _, stats, _ = imported
    with (DATA / "sessions.csv").open(encoding="utf-8") as handle:
        selected = {row["session_id"]: int(row["num_selected"]) for row in csv.DictReader(handle)}
    for session in SESSIONS:
        generations = _chapter(stats, session)["generations"]
        assert generations["pending"] > 0, session
        assert generations["pending"] == selected[session], session
        assert generations["approved"] == generations["rejected"] == 0
    assert stats["book"]["models"] == [MODEL]
    assert stats["book"]["generations"]["pending"] == sum(selected.values())


def test_generation_records_hold_the_accepted_text(imported) -> None:
    project_file = ProjectFile.open(imported[0], readonly=True)
    try:
        project = project_file.load()
    finally:
        project_file.close()
    assert project.generations
    by_id = {c.id: c for c in project.chapters}
    for generation in project.generations.values():
        assert generation.model == MODEL
        assert generation.review_state is ReviewState.PENDING
        assert generation.output
        assert generation.chapter_id in by_id
    for chapter in project.chapters:
        refs = {ref for _, origin, ref in chapter.text.runs() if origin is Origin.AI}
        assert refs <= set(project.generations), chapter.title
        imports = {ref for _, origin, ref in chapter.text.runs() if origin is Origin.IMPORTED}
        for ref in imports:
            assert ref is not None
            record = project.imports[ref]
            assert record.kind == "coauthor-session"
            assert Path(record.source).name == f"{chapter.title}.jsonl.gz"
            assert record.own_writing is False


def test_a_single_session_imports_alone(tmp_path: Path, cli) -> None:
    session = SESSIONS[0]
    project = tmp_path / "one.coauthor"
    assert cli("import", DATA / f"{session}.jsonl.gz", "--into", project).returncode == 0
    stats = json.loads(cli("stats", project, "--json").stdout)
    assert [c["title"] for c in stats["chapters"]] == [session]
    assert cli("cat", project, "--chapter", "1").stdout.decode() == TRUTH[session]["text"]
    assert cli("verify", project).returncode == 0


def test_damaged_session_log_is_one_clear_line(tmp_path: Path, cli) -> None:
    log = tmp_path / "broken.jsonl"
    log.write_text('{"eventName": "system-initialize", "currentDoc": "Hi"}\nnot json\n')
    project = tmp_path / "broken.coauthor"
    result = cli("import", log, "--into", project)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert b"broken.jsonl line 2" in result.stderr
    assert not project.exists()


def test_importing_sessions_does_not_load_qt(tmp_path: Path) -> None:
    """The headless command stays headless: no PySide6 for an import, stats or verify."""
    logs = [str(DATA / f"{session}.jsonl.gz") for session in SESSIONS]
    project = str(tmp_path / "noqt.coauthor")
    script = textwrap.dedent(
        """
        import json, sys
        from coauthor.cli import main
        logs, project = json.loads(sys.argv[1]), sys.argv[2]
        codes = [main(["import", *logs, "--into", project]), main(["stats", project]),
                 main(["verify", project])]
        qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
        print(json.dumps({"codes": codes, "qt": qt}), file=sys.stderr)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(logs), project],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"codes": [0, 0, 0], "qt": []}
