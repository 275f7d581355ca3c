"""A process killed with SIGKILL: at most the last flush is lost, and the file always opens.

Three situations a user meets: the editor killed while writing (flushes every few tens of
milliseconds), a large import into a new project killed half way, and a large import into an
existing project killed half way. Afterwards ``coauthor verify`` must pass on whatever is there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from coauthor.store import ProjectFile

_WRITER = textwrap.dedent(
    """
    import sys, time
    from coauthor.core.book import BookMeta
    from coauthor.core.origin import Origin
    from coauthor.core.project import Project
    from coauthor.store import ProjectFile

    meta = BookMeta(title="Crash test", author="A. Writer")
    project_file = ProjectFile.create(sys.argv[1], meta)
    project = Project(meta)
    chapter = project.add_chapter("Draft")
    step = 0
    while True:
        for _ in range(5):
            project.insert(chapter, len(chapter.text), f"line {step:06d} " + "x" * 200 + "\\n",
                           Origin.HUMAN)
            step += 1
        project_file.flush(project)
        print(len(chapter.text), flush=True)
        time.sleep(0.05)
    """
)


def _expected_writing(length: int) -> str:
    lines = []
    step = 0
    while sum(map(len, lines)) < length:
        lines.append(f"line {step:06d} " + "x" * 200 + "\n")
        step += 1
    return "".join(lines)


def _load_titles_and_texts(path: Path) -> dict[str, str]:
    project_file = ProjectFile.open(path, readonly=True)
    try:
        project = project_file.load()
    finally:
        project_file.close()
    return {c.title: c.text.text for c in project.chapters}


@pytest.mark.slow
@pytest.mark.parametrize("extra_delay", [0.0, 0.013, 0.031])
def test_killed_writer_loses_at_most_the_last_flush(tmp_path: Path, cli, extra_delay: float):
    path = tmp_path / "draft.coauthor"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reported: list[int] = []
    try:
        assert writer.stdout is not None
        while len(reported) < 20:
            line = writer.stdout.readline()
            assert line, writer.stderr.read() if writer.stderr else "the writer stopped"
            reported.append(int(line))
        time.sleep(extra_delay)  # land the kill at different moments of the write cycle
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL

    verified = cli("verify", path)
    assert verified.returncode == 0, verified.stderr
    text = cli("cat", path, "--chapter", "Draft")
    assert text.returncode == 0, text.stderr
    saved = text.stdout.decode("utf-8")
    assert len(saved) >= reported[-1]
    assert saved == _expected_writing(len(saved))[: len(saved)]
    # Opening it for writing (the editor's way) works too and keeps the text.
    project_file = ProjectFile.open(path)
    try:
        assert project_file.load().chapters[0].text.text == saved
    finally:
        project_file.close()


# -- large imports ----------------------------------------------------------------------------

_CHAPTERS = 1000
_PARAGRAPH = ("It was a quiet evening and the words kept coming, one after another. " * 5).strip()
_BODY = "\n\n".join(f"{_PARAGRAPH} ({n})" for n in range(80))


@pytest.fixture(scope="module")
def big_markdown(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 30 MB of Markdown in 1,000 chapters."""
    path = tmp_path_factory.mktemp("big") / "big.md"
    with path.open("w", encoding="utf-8") as handle:
        for n in range(1, _CHAPTERS + 1):
            handle.write(f"# Part {n}\n\n{_BODY}\n\n")
    assert path.stat().st_size > 25_000_000
    return path


@pytest.fixture(scope="module")
def import_seconds(big_markdown: Path, tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long the whole import takes here, to spread the kills over it."""
    target = tmp_path_factory.mktemp("timing") / "whole.coauthor"
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "coauthor.cli", "import", str(big_markdown), "--into", str(target)],
        capture_output=True,
        check=False,
    )
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    return elapsed


def _import_and_kill(source: Path, target: Path, after: float) -> int | None:
    process = subprocess.Popen(
        [sys.executable, "-m", "coauthor.cli", "import", str(source), "--into", str(target)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=after)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
    return process.wait(timeout=30)


_FRACTIONS = [0.25, 0.5, 0.7, 0.85, 1.0]


@pytest.mark.slow
def test_killed_import_into_a_new_project_leaves_nothing_or_a_whole_project(
    tmp_path: Path, big_markdown: Path, import_seconds: float, cli
) -> None:
    outcomes = []
    for n, fraction in enumerate(_FRACTIONS):
        target = tmp_path / f"new{n}.coauthor"
        code = _import_and_kill(big_markdown, target, fraction * import_seconds)
        if not target.exists():
            outcomes.append((fraction, code, "none"))
            continue
        verified = cli("verify", target)
        assert verified.returncode == 0, (fraction, verified.stderr)
        titles = list(_load_titles_and_texts(target))
        assert titles == [f"Part {i}" for i in range(1, _CHAPTERS + 1)], fraction
        outcomes.append((fraction, code, "whole"))
    assert any(code == -signal.SIGKILL for _, code, _ in outcomes), outcomes

    # An interrupted import does not stand in the way of doing it again.
    retry = tmp_path / "new0.coauthor"
    if not retry.exists():
        result = cli("import", big_markdown, "--into", retry)
        assert result.returncode == 0, result.stderr
        assert cli("verify", retry).returncode == 0
        assert sorted(p.name for p in tmp_path.glob("new0.*")) == ["new0.coauthor"]


@pytest.mark.slow
def test_killed_import_into_an_existing_project_keeps_it_whole(
    tmp_path: Path, big_markdown: Path, import_seconds: float, cli
) -> None:
    seed = tmp_path / "seed.md"
    seed.write_text("# Old one\n\nThe author's first chapter.\n\n# Old two\n\nAnd a second.\n")
    template = tmp_path / "template.coauthor"
    assert cli("import", seed, "--into", template, "--own-writing").returncode == 0
    old = {"Old one": "The author's first chapter.", "Old two": "And a second."}
    whole = list(old) + [f"Part {i}" for i in range(1, _CHAPTERS + 1)]

    codes = []
    for n, fraction in enumerate(_FRACTIONS):
        target = tmp_path / f"existing{n}.coauthor"
        target.write_bytes(template.read_bytes())
        code = _import_and_kill(big_markdown, target, 0.1 + fraction * import_seconds)

        verified = cli("verify", target)
        assert verified.returncode == 0, (fraction, code, verified.stderr)
        chapters = _load_titles_and_texts(target)
        assert list(chapters) in (list(old), whole), (fraction, code, len(chapters))
        assert {t: chapters[t] for t in old} == old
        if len(chapters) > len(old):
            assert chapters[f"Part {_CHAPTERS}"] == _BODY
        codes.append(code)
    assert -signal.SIGKILL in codes, codes


# -- the moments in between, reproduced exactly --------------------------------------------

_KILLED_WRITER = textwrap.dedent(
    """
    import os, sys
    from coauthor.core.origin import Origin
    from coauthor.store import ProjectFile

    project_file = ProjectFile.open(sys.argv[1])
    project_file.conn.execute("PRAGMA wal_autocheckpoint = 0")
    project = project_file.load()
    chapter = project.add_chapter("Late")
    project.insert(chapter, 0, "late words " * 100_000, Origin.HUMAN)
    project_file.flush(project)
    os._exit(0)  # killed before the log is folded back into the file
    """
)


def _small_project(folder: Path, cli) -> Path:
    source = folder / "notes.md"
    source.write_text("# One\n\nFirst.\n\n# Two\n\nSecond.\n", encoding="utf-8")
    target = folder / "notes.coauthor"
    result = cli("import", source, "--into", target)
    assert result.returncode == 0, result.stderr
    return target


def test_kill_during_a_checkpoint_leaves_a_project_that_opens(tmp_path: Path, cli) -> None:
    """SQLite copies the log's pages into the file page 1 first, so for a moment the header
    counts pages the file does not have yet; they are still in the log, so nothing is lost."""
    project = _small_project(tmp_path, cli)
    killed = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(project)], check=False)
    assert killed.returncode == 0
    wal = project.with_name(project.name + "-wal").read_bytes()
    page_size = int.from_bytes(wal[8:12], "big")
    first_page = None
    for offset in range(32, len(wal) - page_size - 23, 24 + page_size):
        if int.from_bytes(wal[offset : offset + 4], "big") == 1:
            first_page = wal[offset + 24 : offset + 24 + page_size]
    assert first_page is not None
    with project.open("r+b") as handle:  # the checkpoint's first write, then the kill
        handle.write(first_page)
    assert project.stat().st_size < int.from_bytes(first_page[28:32], "big") * page_size

    verified = cli("verify", project)
    assert verified.returncode == 0, verified.stderr
    late = cli("cat", project, "--chapter", "Late")
    assert late.returncode == 0, late.stderr
    assert late.stdout.decode() == "late words " * 100_000
    assert cli("cat", project, "--chapter", "One").stdout == b"First."


def test_kill_in_the_middle_of_a_rollback_journal_write(tmp_path: Path, cli) -> None:
    """A hot journal (a write killed half way outside WAL mode, as when the file is being
    switched back at close) is undone, and read commands then see the last saved state."""
    project = _small_project(tmp_path, cli)
    stats_before = cli("stats", project, "--json").stdout
    writer = textwrap.dedent(
        """
        import os, sqlite3, sys
        conn = sqlite3.connect(sys.argv[1], isolation_level=None)
        conn.execute("PRAGMA cache_size = 1")  # spill to the file before the commit
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO meta (key, value) VALUES ('padding', ?)", ("x" * 200_000,))
        conn.execute("UPDATE chapters SET text = 'Never saved.' WHERE title = 'One'")
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", writer, str(project)], check=True)
    assert project.with_name(project.name + "-journal").stat().st_size > 0

    for command in (["verify", project], ["stats", project, "--json"]):
        result = cli(*command)
        assert result.returncode == 0, (command, result.stderr)
    assert cli("stats", project, "--json").stdout == stats_before
    assert cli("cat", project, "--chapter", "One").stdout == b"First."
    assert not project.with_name(project.name + "-journal").exists()


def test_import_stats_are_unchanged_by_a_reopen(tmp_path: Path, cli) -> None:
    """Closing and reopening (the log folded back into the file) keeps every figure."""
    target = _small_project(tmp_path, cli)
    first = json.loads(cli("stats", target, "--json").stdout)
    assert not target.with_name(target.name + "-wal").exists()
    project_file = ProjectFile.open(target)
    project_file.close(project_file.load())
    assert json.loads(cli("stats", target, "--json").stdout) == first
