"""``coauthor review PROJECT`` in a real terminal: a pseudo-terminal, answered like a person.

The command shows each pending passage inside its text and asks what to do. Every decision is
written at once with the reviewer's name; quitting keeps the decisions made so far. Without a
terminal it refuses: a review is a person reading, not a script.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from coauthor.app.sample import build_sample
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.store import ProjectFile

Cli = Callable[..., subprocess.CompletedProcess[bytes]]  # the ``cli`` fixture (tests/conftest.py)


PROMPT = "[a]pprove, [r]eject (removes its text), [s]kip, [q]uit? "
G2_TEXT = (
    "The storm finally came to an end. The end of the year was the perfect time for a little "
    "bit of magic. As the last wisps of daylight faded and the sky transformed into a deep shade "
    "of indigo, the sun finally lifted the last remnants of its massive energy."
)
G3_TEXT = "The sea had been counting too, she thought, and it was ahead of the clock. "
WAIT_S = 60.0


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return build_sample(tmp_path / "book.coauthor")


@pytest.fixture
def two_pending(sample: Path) -> Path:
    """The sample with a second pending generation, g3, at the start of chapter 3 (before g2)."""
    project_file = ProjectFile.open(sample)
    project = project_file.load()
    try:
        storm = project.chapters[2]
        now = project.clock()
        generation = project.add_generation(
            Generation(
                project.new_generation_id(),
                "compatible",
                "test-model",
                {"mode": "prompt"},
                [{"role": "user", "content": "Open the chapter with the sea."}],
                G3_TEXT,
                Outcome.COMPLETE,
                now,
                now,
                storm.id,
            )
        )
        assert generation.id == "g3"
        project.insert(storm, 0, G3_TEXT, Origin.AI, generation.id)
        project_file.flush(project)
    finally:
        project_file.close(project)
    return sample


class Terminal:
    """``coauthor ARGS`` with stdin, stdout and stderr on a pseudo-terminal."""

    def __init__(self, *args: object) -> None:
        master, slave = pty.openpty()
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUTF8": "1"}
        env.pop("COLUMNS", None)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "coauthor.cli", *map(str, args)],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                close_fds=True,
            )
        finally:
            os.close(slave)
        self.master = master
        self.output = b""

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace").replace("\r\n", "\n")

    def _read(self, deadline: float) -> bool:
        """Read what is there (waiting until ``deadline``); False at the end of the output."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return True
        try:
            data = os.read(self.master, 4096)
        except OSError:  # EIO: the other side is closed
            return False
        self.output += data
        return bool(data)

    def wait_for(self, text: str, count: int = 1) -> None:
        deadline = time.monotonic() + WAIT_S
        while self.text.count(text) < count:
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError(f"{text!r} did not appear (x{count}); output:\n{self.text}")

    def answer(self, reply: str) -> None:
        os.write(self.master, reply.encode() + b"\n")

    def finish(self) -> int:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and self._read(deadline):
            pass
        try:
            return self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            os.close(self.master)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def review(project: Path, *answers: str) -> tuple[int, str]:
    """Run the review as Tester, giving ``answers`` one per prompt; (exit code, output)."""
    terminal = Terminal("review", project, "--reviewer", "Tester")
    try:
        for count, reply in enumerate(answers, 1):
            terminal.wait_for(PROMPT, count)
            terminal.answer(reply)
        code = terminal.finish()
    finally:
        terminal.kill()
    return code, terminal.text


def stats(cli: Cli, project: Path) -> dict:
    result = cli("stats", project, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def generation_counts(cli: Cli, project: Path) -> tuple[dict, dict]:
    """The review counts of the book and of chapter 3 (``GenerationCounts``' review keys)."""
    data = stats(cli, project)
    keys = ("pending", "approved", "rejected")
    return tuple(  # type: ignore[return-value]
        {key: counts[key] for key in keys}
        for counts in (data["book"]["generations"], data["chapters"][2]["generations"])
    )


def chapter_text(cli: Cli, project: Path, chapter: str) -> str:
    result = cli("cat", project, "--chapter", chapter)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()


def stored_reviews(project: Path) -> list[tuple[int, str, str, str]]:
    project_file = ProjectFile.open(project, readonly=True)
    try:
        return project_file.reviews()
    finally:
        project_file.close()


def stored_state(project: Path, generation_id: str) -> tuple[ReviewState, str]:
    project_file = ProjectFile.open(project, readonly=True)
    try:
        generation = project_file.load().generations[generation_id]
    finally:
        project_file.close()
    return generation.review_state, generation.reviewer


# -- answering ----------------------------------------------------------------------------------


def test_approve_shows_the_passage_in_context_and_records_the_reviewer(
    sample: Path, cli: Cli
) -> None:
    code, out = review(sample, "a")
    assert code == 0, out
    assert "1 generation pending review." in out
    assert "The Storm · generation g2 · SmolLM2-135M-Instruct via embedded" in out
    assert "Asked: Continue: The storm came on the longest night of the year." in out
    # The passage, marked, inside the text before it.
    assert f"by one the tick had slowed to a stagger.\n\n⟦{G2_TEXT}⟧" in out
    assert "\x1b[" not in out  # NO_COLOR: no escape sequences
    assert PROMPT in out
    assert "Approved 1, rejected 0, skipped 0." in out

    book, storm = generation_counts(cli, sample)
    assert storm == {"pending": 0, "approved": 1, "rejected": 0}
    assert book == {"pending": 0, "approved": 2, "rejected": 0}  # g1 was approved already
    when, generation, state, reviewer = stored_reviews(sample)[-1]
    assert (generation, state, reviewer) == ("g2", "approved", "Tester")
    assert abs(when - time.time() * 1000) < 120_000
    assert stored_state(sample, "g2") == (ReviewState.APPROVED, "Tester")
    assert G2_TEXT in chapter_text(cli, sample, "3")


def test_reject_removes_the_text_and_the_history_still_verifies(sample: Path, cli: Cli) -> None:
    code, out = review(sample, "r")
    assert code == 0, out
    assert "Approved 0, rejected 1, skipped 0." in out
    text = chapter_text(cli, sample, "3")
    assert G2_TEXT not in text
    assert "The storm finally came to an end" not in text
    assert text.startswith("The storm came on the longest night of the year.")
    assert stored_state(sample, "g2") == (ReviewState.REJECTED, "Tester")
    _, storm = generation_counts(cli, sample)
    assert storm == {"pending": 0, "approved": 0, "rejected": 1}
    result = cli("verify", sample)
    assert result.returncode == 0, result.stderr
    assert b"OK" in result.stdout


def test_skip_leaves_it_pending_and_other_answers_are_asked_again(sample: Path, cli: Cli) -> None:
    code, out = review(sample, "maybe", "s")
    assert code == 0, out
    assert "Please answer a, r, s or q." in out
    assert out.count(PROMPT) == 2
    assert "Approved 0, rejected 0, skipped 1." in out
    _, storm = generation_counts(cli, sample)
    assert storm == {"pending": 1, "approved": 0, "rejected": 0}
    assert stored_state(sample, "g2") == (ReviewState.PENDING, "")
    assert G2_TEXT in chapter_text(cli, sample, "3")


def test_quit_keeps_the_decisions_made_before(two_pending: Path, cli: Cli) -> None:
    code, out = review(two_pending, "a", "q")
    assert code == 0, out
    assert "2 generations pending review." in out
    assert "generation g3 · test-model via compatible" in out
    assert "generation g2" in out
    assert "Approved 1, rejected 0, skipped 0." in out
    assert stored_state(two_pending, "g3") == (ReviewState.APPROVED, "Tester")
    assert stored_state(two_pending, "g2") == (ReviewState.PENDING, "")
    _, storm = generation_counts(cli, two_pending)
    assert storm == {"pending": 1, "approved": 1, "rejected": 0}


def test_after_a_rejection_the_next_passage_is_shown_where_it_now_is(
    two_pending: Path, cli: Cli
) -> None:
    """g3 comes before g2 in the chapter: once g3's text is gone, g2 must still be shown whole."""
    code, out = review(two_pending, "r", "a")
    assert code == 0, out
    assert f"⟦{G3_TEXT}⟧" in out
    assert f"by one the tick had slowed to a stagger.\n\n⟦{G2_TEXT}⟧" in out
    assert "Approved 1, rejected 1, skipped 0." in out
    text = chapter_text(cli, two_pending, "3")
    assert G3_TEXT not in text
    assert G2_TEXT in text
    assert stored_state(two_pending, "g2") == (ReviewState.APPROVED, "Tester")
    assert cli("verify", two_pending).returncode == 0


# -- no terminal --------------------------------------------------------------------------------


def test_without_a_terminal_it_refuses_in_one_line(sample: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "coauthor.cli", "review", str(sample), "--reviewer", "Tester"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("coauthor: ")
    assert "needs a terminal" in lines[0]
    assert stored_state(sample, "g2") == (ReviewState.PENDING, "")
