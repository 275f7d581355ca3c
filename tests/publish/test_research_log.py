"""Research logs (``coauthor export --format coauthor-log``): the history as CoAuthor study
logs, one per chapter. Importing them again gives the same texts and the same characters by
origin: for the twelve real study sessions (import, export, import reproduces
``data/coauthor/truth.json``), for the sample book (pasted, imported and reviewed text), and for
a book with undone (restored) text and characters outside the BMP, whose restored characters
the format can only carry as new insertions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from coauthor.app.sample import build_sample
from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.history import RESTORE, EditEvent
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish.research_log import ResearchLogFailed, export_research_logs
from coauthor.store import ProjectFile

DATA = Path(__file__).resolve().parents[2] / "data" / "coauthor"
TRUTH = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))
SESSIONS = sorted(TRUTH)
STUDY_FIELDS = {
    "eventName", "eventSource", "eventTimestamp", "textDelta", "cursorRange", "currentDoc",
    "currentCursor", "currentSuggestions", "currentSuggestionIndex", "currentHoverIndex",
    "currentN", "currentMaxToken", "currentTemperature", "currentTopP",
    "currentPresencePenalty", "currentFrequencyPenalty", "eventNum",
}  # fmt: skip
"""Every field an event of the study's own logs has (its readers expect them all)."""


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stderr.decode()


def _stats(cli, project: Path) -> dict:
    return json.loads(cli("stats", project, "--json").stdout)


def _load(path: Path) -> Project:
    project_file = ProjectFile.open(path, readonly=True)
    try:
        return project_file.load()
    finally:
        project_file.close()


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _generations(project: Project) -> list[tuple[str, str, str]]:
    """(chapter title, model, parameters) of every generation, sorted."""
    titles = {c.id: c.title for c in project.chapters}
    return sorted(
        (titles[g.chapter_id or 0], g.model, json.dumps(g.parameters, sort_keys=True))
        for g in project.generations.values()
    )


# -- the twelve study sessions ------------------------------------------------------------


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory, cli):
    """The twelve logs imported, exported as research logs, and the logs imported again."""
    root = tmp_path_factory.mktemp("roundtrip")
    first, logs, again = root / "first.coauthor", root / "logs", root / "again.coauthor"
    _ok(cli("import", *[DATA / f"{s}.jsonl.gz" for s in SESSIONS], "--into", first))
    messages = _ok(cli("export", first, "--format", "coauthor-log", "--out", logs))
    _ok(cli("import", *sorted(logs.glob("*.jsonl")), "--into", again))
    return first, logs, again, _stats(cli, first), _stats(cli, again), messages


def _selected() -> dict[str, int]:
    """Suggestions each session's writer accepted (the dataset's metadata)."""
    with (DATA / "sessions.csv").open(encoding="utf-8") as handle:
        return {row["session_id"]: int(row["num_selected"]) for row in csv.DictReader(handle)}


def _chapter(stats: dict, title: str) -> dict:
    (found,) = [c for c in stats["chapters"] if c["title"] == title]
    return found


def test_one_log_per_session_named_by_number_and_title(sessions) -> None:
    _, logs, _, _, again, messages = sessions
    names = sorted(p.name for p in logs.glob("*.jsonl"))
    assert names == [f"{n:02d}-{s}.jsonl" for n, s in enumerate(SESSIONS, 1)]
    assert (logs / "README.md").is_file()
    # The titles come back from the header, not from the file names.
    assert [c["title"] for c in again["chapters"]] == SESSIONS
    assert "Exported 12 research logs" in messages
    assert "not gated by review" in messages
    assert f"{sum(_selected().values())} generations not reviewed yet" in messages


@pytest.mark.parametrize("session", SESSIONS)
def test_session_round_trip_reproduces_the_truth(sessions, cli, session: str) -> None:
    _, _, again, first_stats, again_stats, _ = sessions
    number = SESSIONS.index(session) + 1
    text = cli("cat", again, "--chapter", str(number)).stdout.decode("utf-8")
    assert text == TRUTH[session]["text"]
    chapter = _chapter(again_stats, session)
    truth = TRUTH[session]
    assert chapter["chars"] == {
        "imported": truth["final_chars"]["prompt"],
        "human": truth["final_chars"]["human"],
        "ai": truth["final_chars"]["ai"],
        "pasted": 0,
    }
    inserted = chapter["process"]["inserted"]
    assert (inserted["human"], inserted["ai"]) == (
        truth["inserted_chars"]["human"],
        truth["inserted_chars"]["ai"],
    )
    share = round(100 * inserted["human"] / (inserted["human"] + inserted["ai"]))
    assert share == truth["written_by_human"]
    # Everything else the first import measured, the second measures the same.
    original = _chapter(first_stats, session)
    assert chapter["process"] == original["process"]
    assert chapter["generations"] == original["generations"]


def test_generations_keep_their_model_and_parameters(sessions) -> None:
    first, _, again, _, _, _ = sessions
    before, after = _load(first), _load(again)
    assert _generations(after) == _generations(before)
    assert all(g.review_state is ReviewState.PENDING for g in after.generations.values())


def test_session_logs_have_the_study_fields_and_suggestions(sessions) -> None:
    _, logs, _, _, _, _ = sessions
    selected = _selected()
    for number, session in enumerate(SESSIONS, 1):
        events = _events(logs / f"{number:02d}-{session}.jsonl")
        assert all(set(e) >= STUDY_FIELDS for e in events), session
        assert [e["eventNum"] for e in events] == list(range(len(events)))
        assert events[0]["eventName"] == "system-initialize"
        names = [e["eventName"] for e in events]
        assert names.count("suggestion-select") == selected[session], session
        for i, event in enumerate(events):
            if event["eventSource"] == "api" and event["eventName"] == "text-insert":
                # the study's interface: the writer selects the suggestion, then it is inserted
                assert names[i - 2 : i] == ["suggestion-select", "suggestion-close"]
                assert events[i - 2]["coauthorGeneration"] == event["coauthorGeneration"]
                assert event["currentTemperature"]
                assert event["currentMaxToken"]


@pytest.mark.parametrize("session", SESSIONS[:3])
def test_text_events_keep_the_sessions_times(sessions, session: str) -> None:
    """Every text event's time is one of the original log's text events, and all are there."""
    _, logs, _, _, _, _ = sessions
    import gzip

    with gzip.open(DATA / f"{session}.jsonl.gz", "rt", encoding="utf-8") as handle:
        original = [json.loads(line) for line in handle if line.strip()]
    times = {
        e["eventTimestamp"]
        for e in original
        if e["eventName"] in ("text-insert", "text-delete") and e.get("textDelta")
    }
    number = SESSIONS.index(session) + 1
    exported = _events(logs / f"{number:02d}-{session}.jsonl")
    assert {
        e["eventTimestamp"] for e in exported if e["eventName"] in ("text-insert", "text-delete")
    } == times
    assert exported[0]["eventTimestamp"] == original[0]["eventTimestamp"]


# -- the sample book ------------------------------------------------------------------------


@pytest.fixture
def sample_file(tmp_path: Path) -> Path:
    return build_sample(tmp_path / "sample.coauthor")


def test_sample_book_round_trip(sample_file: Path, tmp_path: Path, cli) -> None:
    logs, again = tmp_path / "logs", tmp_path / "again.coauthor"
    _ok(cli("export", sample_file, "--format", "coauthor-log", "--out", logs))
    _ok(cli("import", *sorted(logs.glob("*.jsonl")), "--into", again))
    before, after = _load(sample_file), _load(again)
    assert [(c.title, c.markup, c.text.text) for c in after.chapters] == [
        (c.title, c.markup, c.text.text) for c in before.chapters
    ]
    for old, new in zip(before.chapters, after.chapters, strict=True):
        # Every character has the same origin: typed, the model's, pasted, imported.
        assert new.text.origin_codes() == old.text.origin_codes(), old.title
        assert new.process == old.process, old.title
    assert _generations(after) == _generations(before)
    # The format carries no review: an imported generation waits for review again.
    assert {g.review_state for g in after.generations.values()} == {ReviewState.PENDING}
    almanac = _events(logs / "02-the-almanac.jsonl")
    origins = {e.get("coauthorOrigin") for e in almanac if e["eventName"] == "text-insert"}
    assert origins == {"human", "pasted", "imported"}
    assert {e["eventSource"] for e in almanac if e["eventName"] == "text-insert"} == {"user"}


def test_names_are_left_out_unless_kept(sample_file: Path, tmp_path: Path, cli) -> None:
    author = "Ada Marlowe"  # the sample's author, who also reviewed its first generation
    _ok(cli("export", sample_file, "--format", "coauthor-log", "--out", tmp_path / "anon"))
    for path in (tmp_path / "anon").iterdir():
        assert author not in path.read_text(encoding="utf-8"), path.name
    (review,) = [
        e for e in _events(tmp_path / "anon" / "01-the-keeper.jsonl")
        if e["eventName"] == "coauthor-review"
    ]  # fmt: skip
    assert review["coauthorReviewer"] == "reviewer-1"
    assert review["coauthorReviewState"] == "approved"
    _ok(
        cli(
            "export", sample_file, "--format", "coauthor-log", "--out", tmp_path / "named",
            "--keep-names",
        )
    )  # fmt: skip
    keeper = _events(tmp_path / "named" / "01-the-keeper.jsonl")
    assert keeper[0]["coauthorExport"]["author"] == author
    assert [e["coauthorReviewer"] for e in keeper if e["eventName"] == "coauthor-review"] == [
        author
    ]


def test_readme_says_what_the_logs_hold(sample_file: Path, tmp_path: Path, cli) -> None:
    logs = tmp_path / "logs"
    messages = _ok(cli("export", sample_file, "--format", "coauthor-log", "--out", logs))
    readme = (logs / "README.md").read_text(encoding="utf-8")
    assert "not reviewed yet" in readme
    assert "1 generation is in these logs" in readme
    assert "review gate" in readme
    assert "--no-text" in readme
    assert "consent" in readme
    for name in ("01-the-keeper.jsonl", "02-the-almanac.jsonl", "03-the-storm.jsonl"):
        assert f"`{name}`" in readme
    assert "1 generation not reviewed yet" in messages
    assert "README.md" in messages


# -- --no-text ------------------------------------------------------------------------------


def test_no_text_keeps_lengths_and_sources_only(sample_file: Path, tmp_path: Path, cli) -> None:
    logs = tmp_path / "logs"
    messages = _ok(
        cli("export", sample_file, "--format", "coauthor-log", "--out", logs, "--no-text")
    )
    assert "without text" in messages
    project = _load(sample_file)
    files = sorted(logs.glob("*.jsonl"))
    assert [p.name for p in files] == ["01.jsonl", "02.jsonl", "03.jsonl"]
    words = {w for c in project.chapters for w in c.text.text.split() if len(w) >= 6}
    words |= {c.title for c in project.chapters} | {project.meta.title}
    words -= {o.value for o in Origin}  # the format's own words ("pasted" is one of the text's)
    for path in files:
        content = path.read_text(encoding="utf-8")
        assert not [w for w in words if w in content], path.name
    passages = [c.title for c in project.chapters] + [c.text.text[:40] for c in project.chapters]
    passages += [g.output[:40] for g in project.generations.values()]
    readme = (logs / "README.md").read_text(encoding="utf-8")
    assert not [p for p in passages if p in readme]
    # The lengths add up to what was inserted, by origin, and the deletions to what was removed.
    for chapter, path in zip(project.chapters, files, strict=True):
        inserted = dict.fromkeys(Origin, 0)
        events = _events(path)
        assert events[0]["coauthorExport"]["text"] is False
        for event in events:
            if event["eventName"] == "text-insert":
                lengths = [
                    op["insertLength"] for op in event["textDelta"]["ops"] if "insertLength" in op
                ]
                assert not any("insert" in op for op in event["textDelta"]["ops"])
                inserted[Origin(event["coauthorOrigin"])] += sum(lengths)
            if event["eventName"] == "suggestion-open":
                assert "original" not in json.dumps(event["currentSuggestions"])
        assert inserted == chapter.process, chapter.title


def test_a_no_text_log_is_refused_by_the_importer(sample_file: Path, tmp_path: Path, cli) -> None:
    logs = tmp_path / "logs"
    _ok(cli("export", sample_file, "--format", "coauthor-log", "--out", logs, "--no-text"))
    target = tmp_path / "x.coauthor"
    result = cli("import", logs / "01.jsonl", "--into", target)
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert "--no-text" in line
    assert "01.jsonl" in line
    assert not target.exists()
    # Without its header, the length op itself is refused, naming the line.
    events = _events(logs / "01.jsonl")
    del events[0]["coauthorExport"]
    stripped = tmp_path / "stripped.jsonl"
    stripped.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    result = cli("import", stripped, "--into", target)
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert "stripped.jsonl line 2" in line
    assert "--no-text" in line


# -- restored text, astral characters -------------------------------------------------------


def _book_with_undo(path: Path) -> Project:
    """Typed text with an emoji, a generation, a paste; then a cut of mixed text put back."""
    ticks = iter(range(1_700_000_000_000, 1_800_000_000_000, 1000))
    project = Project(BookMeta(title="Undo", author="Bo Writer"), clock=lambda: next(ticks))
    chapter = project.add_chapter("One \U0001f30a")
    project.insert(chapter, 0, "Waves \U0001f30a rise. ", Origin.HUMAN)
    generation = project.add_generation(
        Generation(
            project.new_generation_id(), "openai", "gpt-test", {"temperature": 0.5, "seed": 3},
            [{"role": "user", "content": "go"}], "The sea \U0001f40b sings.", Outcome.COMPLETE,
            project.clock(), project.clock(), chapter.id,
        )
    )  # fmt: skip
    project.insert(chapter, len(chapter.text), generation.output, Origin.AI, generation.id)
    project.insert(chapter, len(chapter.text), " Quoted.", Origin.PASTED)
    project.add_generation(
        Generation(
            project.new_generation_id(), "openai", "gpt-test", {}, [], "never used",
            Outcome.COMPLETE, project.clock(), project.clock(), chapter.id,
        )
    )  # fmt: skip
    start = 6  # from the emoji to the middle of the model's text: cut, then undone
    fragment = project.delete(chapter, start, 20)
    assert project.last_removal is not None
    project.insert_fragment(chapter, start, fragment, source=(project.last_removal,))
    project.insert(chapter, 2, "!", Origin.HUMAN)
    project.review(generation.id, ReviewState.REJECTED, "Bo Writer", "no")
    project_file = ProjectFile.create(path, project.meta)
    project_file.flush(project)
    project_file.close(project)
    return project


def test_restored_text_comes_back_as_inserted_text(tmp_path: Path, cli) -> None:
    book, logs, again = tmp_path / "undo.coauthor", tmp_path / "logs", tmp_path / "again.coauthor"
    original = _book_with_undo(book)
    _ok(cli("export", book, "--format", "coauthor-log", "--out", logs))
    _ok(cli("import", *logs.glob("*.jsonl"), "--into", again))
    before, after = original.chapters[0], _load(again).chapters[0]
    assert after.title == before.title
    assert after.text.text == before.text.text
    assert after.text.origin_codes() == before.text.origin_codes()
    restored = dict.fromkeys(Origin, 0)
    project_file = ProjectFile.open(book, readonly=True)
    try:
        restores: list[EditEvent] = [e for e in project_file.events() if e.kind == RESTORE]
    finally:
        project_file.close()
    assert restores
    for event in restores:
        for length, origin, _ in event.runs or ():
            restored[origin] += length
    assert set(restored.values()) != {0}
    assert after.process == {o: before.process[o] + restored[o] for o in Origin}
    events = _events(next(logs.glob("*.jsonl")))
    marked = [e for e in events if e.get("coauthorRestored")]
    assert [e["coauthorOrigin"] for e in marked] == ["human", "ai"]
    assert [e["eventSource"] for e in marked] == ["user", "api"]
    # The restored text of the generation is the same generation again, not a new one.
    (generation,) = _load(again).generations.values()
    assert generation.model == "gpt-test"
    assert generation.parameters == {
        "temperature": 0.5,
        "seed": 3,
    }
    assert generation.output == "The sea \U0001f40b sings."
    # The generation never inserted is in the log as a suggestion that was not selected.
    names = [e["eventName"] for e in events]
    assert names.count("suggestion-open") == 2
    assert names.count("suggestion-select") == 1
    # Quill counts UTF-16 units: the emoji before the insertion of "!" is two of them.
    (bang,) = [e for e in events if e["textDelta"] and {"insert": "!"} in e["textDelta"]["ops"]]
    assert bang["textDelta"]["ops"][0] == {"retain": 2}


# -- the folder -----------------------------------------------------------------------------


def test_a_folder_that_is_not_empty_needs_force(sample_file: Path, tmp_path: Path, cli) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "notes.txt").write_text("mine", encoding="utf-8")
    result = cli("export", sample_file, "--format", "coauthor-log", "--out", logs)
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert "not empty" in line
    assert "--force" in line
    assert sorted(p.name for p in logs.iterdir()) == ["notes.txt"]
    # An earlier export's log of a chapter that is gone is removed; other files stay.
    stale = logs / "09-gone.jsonl"
    stale.write_text(
        json.dumps({"eventName": "system-initialize", "coauthorExport": {"format": "coauthor-log"}})
        + "\n",
        encoding="utf-8",
    )
    _ok(cli("export", sample_file, "--format", "coauthor-log", "--out", logs, "--force"))
    assert sorted(p.name for p in logs.iterdir()) == [
        "01-the-keeper.jsonl", "02-the-almanac.jsonl", "03-the-storm.jsonl", "README.md",
        "notes.txt",
    ]  # fmt: skip


def test_a_file_in_the_way_is_one_sentence(sample_file: Path, tmp_path: Path, cli) -> None:
    target = tmp_path / "logs"
    target.write_text("x", encoding="utf-8")
    result = cli("export", sample_file, "--format", "coauthor-log", "--out", target)
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert "is a file" in line
    assert target.read_text(encoding="utf-8") == "x"


def test_options_of_the_logs_are_refused_for_other_formats(
    sample_file: Path, tmp_path: Path, cli
) -> None:
    result = cli(
        "export", sample_file, "--format", "epub", "--out", tmp_path / "b.epub", "--no-text"
    )
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert "coauthor-log" in line
    assert not (tmp_path / "b.epub").exists()


def test_a_history_that_does_not_replay_writes_nothing(sample_file: Path, tmp_path: Path) -> None:
    """A failure in the second chapter leaves no log of the first: the files go in together."""
    project_file = ProjectFile.open(sample_file, readonly=True)
    try:
        project = project_file.load()
        events = {c.id: list(project_file.events(c.id)) for c in project.chapters}
    finally:
        project_file.close()
    second = project.chapters[1].id
    events[second] = [e for e in events[second] if not (e.inserted and e.origin is Origin.PASTED)]
    logs = tmp_path / "logs"
    with pytest.raises(ResearchLogFailed, match=r"chapter 2 \(The Almanac\) does not replay"):
        export_research_logs(project, lambda cid: events[cid], logs)
    assert not logs.exists() or not list(logs.iterdir())
