"""The ``coauthor`` command as a user types it: exit codes, exact output, replay and log."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile

T0 = 1_700_000_000_000


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[int, str]]]:
    """A project written through the Python API, one event per edit, in two flushes.

    Returns the file and, for chapter "Letter", each text event's number with the chapter's
    text right after it.
    """
    path = tmp_path_factory.mktemp("letters") / "letters.coauthor"
    meta = BookMeta(title="Collected Letters", author="E. Bennet")
    project_file = ProjectFile.create(path, meta)
    project = Project(meta, clock=iter(range(T0, T0 + 10_000)).__next__)
    project.history.coalesce = False
    letter = project.add_chapter("Letter")
    notes = project.add_chapter("Notes")
    steps: list[tuple[int, str]] = []

    def record(event) -> None:
        steps.append((event.seq, letter.text.text))

    record(project.insert(letter, 0, "Dear Sir,", Origin.HUMAN))
    project.insert(notes, 0, "Remember the date.", Origin.HUMAN)
    record(project.insert(letter, 9, "\nI write in haste.", Origin.HUMAN))
    project_file.flush(project)
    generation = project.add_generation(
        Generation(
            project.new_generation_id(),
            "test",
            "test-model",
            {},
            [{"role": "user", "content": "continue"}],
            " The weather is fine.",
            Outcome.COMPLETE,
            T0,
            T0,
            letter.id,
        )
    )
    record(project.insert(letter, len(letter.text), generation.output, Origin.AI, generation.id))
    project.delete(letter, 0, 4)
    steps.append((project.history.last_seq, letter.text.text))
    record(project.replace(letter, 0, 0, "My dear", Origin.HUMAN))
    record(project.insert(letter, len(letter.text), "\n\n— E.\n", Origin.HUMAN))
    project_file.close(project)
    assert letter.text.text == "My dear Sir,\nI write in haste. The weather is fine.\n\n— E.\n"
    return path, steps


def _ok(result: subprocess.CompletedProcess[bytes]) -> bytes:
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(b"Traceback") == 0
    return result.stdout


def _fails(result: subprocess.CompletedProcess[bytes], *words: str) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 1, (result.stdout, stderr)
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in stderr
    return stderr


# -- new ---------------------------------------------------------------------------------------


def test_new_creates_a_project_with_its_title_and_author(tmp_path: Path, cli) -> None:
    path = tmp_path / "fresh.coauthor"

    result = cli("new", path, "--title", "A Fresh Start", "--author", "Ann Author")

    _ok(result)
    assert b"fresh.coauthor" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.coauthor"]
    project_file = ProjectFile.open(path, readonly=True)
    try:
        project = project_file.load()
    finally:
        project_file.close()
    assert (project.meta.title, project.meta.author) == ("A Fresh Start", "Ann Author")
    assert project.chapters == []
    assert b"A Fresh Start" in _ok(cli("stats", path))
    assert b"OK" in _ok(cli("verify", path))


def test_new_refuses_to_overwrite(tmp_path: Path, cli) -> None:
    path = tmp_path / "taken.coauthor"
    _ok(cli("new", path, "--title", "First"))
    before = path.read_bytes()

    _fails(cli("new", path, "--title", "Second"), "taken.coauthor", "exists")

    assert path.read_bytes() == before


# -- cat ---------------------------------------------------------------------------------------


def test_cat_prints_the_exact_text_with_no_added_newline(letters, cli) -> None:
    path, _ = letters
    expected = "My dear Sir,\nI write in haste. The weather is fine.\n\n— E.\n"
    assert _ok(cli("cat", path, "--chapter", "Letter")) == expected.encode()
    assert _ok(cli("cat", path, "--chapter", "1")) == expected.encode()
    assert _ok(cli("cat", path, "--chapter", "Notes")) == b"Remember the date."
    assert _ok(cli("cat", path, "--chapter", "2")) == b"Remember the date."


def test_cat_of_an_unknown_chapter_fails_clearly(letters, cli) -> None:
    path, _ = letters
    stderr = _fails(cli("cat", path, "--chapter", "Epilogue"), "Epilogue")
    assert "2 chapters" in stderr
    _fails(cli("cat", path, "--chapter", "3"), "3")


def test_cat_into_a_closed_pipe_is_not_an_error(tmp_path: Path, cli) -> None:
    """``coauthor cat BOOK --chapter 1 | head`` ends quietly."""
    path = tmp_path / "long.coauthor"
    project_file = ProjectFile.create(path, BookMeta(title="Long"))
    project = Project(project_file.load().meta)
    project.insert(project.add_chapter("Long"), 0, "all work and no play\n" * 100_000, Origin.HUMAN)
    project_file.close(project)

    process = subprocess.Popen(
        [sys.executable, "-m", "coauthor.cli", "cat", str(path), "--chapter", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    head = process.stdout.read(20)
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=30)

    assert head == b"all work and no play"
    assert process.returncode == 0
    assert b"Traceback" not in stderr


# -- replay and log ----------------------------------------------------------------------------


def test_replay_at_the_last_event_equals_cat(letters, cli) -> None:
    path, steps = letters
    last = steps[-1][0]
    assert _ok(cli("replay", path, "--chapter", "Letter", "--event", last)) == _ok(
        cli("cat", path, "--chapter", "Letter")
    )
    # Events of other chapters after it change nothing; a later number is the same text.
    assert _ok(cli("replay", path, "--chapter", "Letter", "--event", last + 50)) == _ok(
        cli("cat", path, "--chapter", "Letter")
    )


def test_replay_at_each_intermediate_event(letters, cli) -> None:
    path, steps = letters
    assert len(steps) == 6
    assert steps[2][1] == "Dear Sir,\nI write in haste. The weather is fine."
    assert steps[3][1] == " Sir,\nI write in haste. The weather is fine."
    for seq, text in steps:
        assert _ok(cli("replay", path, "--chapter", "1", "--event", seq)).decode() == text, seq


def test_replay_before_the_first_edit_is_empty(letters, cli) -> None:
    path, steps = letters
    assert _ok(cli("replay", path, "--chapter", "Letter", "--event", steps[0][0] - 1)) == b""
    assert _ok(cli("replay", path, "--chapter", "Letter", "--event", 0)) == b""


def test_log_lists_the_events_replay_takes(letters, cli) -> None:
    path, steps = letters
    listing = _ok(cli("log", path)).decode()
    numbers = [int(line.split()[0]) for line in listing.splitlines()]
    assert numbers == list(range(1, len(numbers) + 1))
    assert {seq for seq, _ in steps} <= set(numbers)
    lines = {int(line.split()[0]): line for line in listing.splitlines()}
    assert "book details: 'Collected Letters' by 'E. Bennet'" in lines[1]
    assert "chapter-add" in lines[2]
    assert '+"Dear Sir,"' in lines[steps[0][0]]
    assert re.search(r"ai:g1\s+\+\" The weather is fine.\"", lines[steps[2][0]])

    only_notes = _ok(cli("log", path, "--chapter", "Notes")).decode().splitlines()
    assert only_notes
    assert all("Notes" in line for line in only_notes)
    assert any("Remember the date." in line for line in only_notes)


# -- stats -------------------------------------------------------------------------------------


def test_stats_prints_a_readable_table(letters, cli) -> None:
    path, _ = letters
    table = _ok(cli("stats", path)).decode()
    lines = table.splitlines()
    assert "Collected Letters" in lines[0]
    assert all(word in lines[1] for word in ("chapter", "human", "ai", "pasted", "imported"))
    assert any(line.startswith("Letter ") for line in lines)
    assert any(line.startswith("Notes ") for line in lines)
    assert any(line.startswith("book ") for line in lines)
    assert "generations: 1 pending" in table


def test_stats_json_counts_what_was_written(letters, cli) -> None:
    path, _ = letters
    stats = json.loads(_ok(cli("stats", path, "--json")))
    letter = stats["chapters"][0]
    assert letter["title"] == "Letter"
    assert letter["chars"]["ai"] == len(" The weather is fine.")
    assert letter["chars"]["human"] == letter["total_chars"] - letter["chars"]["ai"]
    # Deleted typing still counts in the process measure.
    assert letter["process"]["inserted"]["human"] == len(
        "Dear Sir," + "\nI write in haste." + "My dear" + "\n\n— E.\n"
    )
    assert stats["book"]["generations"]["pending"] == 1
    assert sum(stats["book"]["shares"].values()) == 100  # of the characters
    assert sum(stats["book"]["word_shares"].values()) == 100


def test_stats_name_the_unit_and_use_the_one_set_of_counts(letters, cli) -> None:
    path, _ = letters
    table = _ok(cli("stats", path)).decode()
    stats = json.loads(_ok(cli("stats", path, "--json")))
    assert "AI %: the share of the characters" in table.splitlines()[0]
    book_row = next(line for line in table.splitlines() if line.startswith("book "))
    assert f" {stats['book']['shares']['ai']}% " in book_row
    words = next(line for line in table.splitlines() if line.startswith("words:"))
    assert f"ai 4 ({stats['book']['word_shares']['ai']}%)" in words
    assert (
        "generations: 1 pending, 0 approved, 0 rejected, 0 deleted before review "
        "(1 inserted of 1 requested, 0 never inserted); the model's passages in the book: 1"
    ) in table


# -- exit codes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["cat", "{p}"],  # --chapter is required
        ["replay", "{p}", "--chapter", "1"],  # --event is required
        ["replay", "{p}", "--chapter", "1", "--event", "-3"],
        ["replay", "{p}", "--chapter", "1", "--event", "ten"],
        ["frobnicate", "{p}"],
        ["new", "{p}"],  # --title is required
        ["import", "--into", "{p}"],  # no source
        ["stats", "{p}", "--colour"],
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2(letters, cli, args: list[str]) -> None:
    path, _ = letters
    before = path.read_bytes()
    result = cli(*[a.format(p=path) for a in args])
    assert result.returncode == 2, result.stderr
    assert b"usage:" in result.stderr
    assert b"Traceback" not in result.stderr
    assert result.stdout == b""
    assert path.read_bytes() == before


def test_version_and_help_exit_0(cli) -> None:
    assert _ok(cli("--version")).startswith(b"coauthor ")
    assert b"import" in _ok(cli("--help"))


def test_commands_that_talk_to_no_provider_do_not_load_the_sdk(tmp_path: Path) -> None:
    """``coauthor stats`` (and the import it needs) loads neither the ``openai`` SDK, nor the
    importers and exporters, nor ``sqlite-utils``: the command starts fast (bench/cli_start.py)."""
    from coauthor.app.sample import build_sample

    book = build_sample(tmp_path / "sample.coauthor")
    code = (
        "import sys\n"
        "from coauthor.cli import main\n"
        f"assert main(['stats', {str(book)!r}]) == 0\n"
        "heavy = ('openai', 'sqlite_utils', 'coauthor.importers', 'coauthor.publish', 'PySide6')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == ["[]", "[]"]
