"""A long history is verified in two processes; the verdict must be the one a single process
gives, for an honest file and for each way of tampering, including facts that need both halves
(a paste naming another chapter's text, an approval of text in another chapter)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from forge import rewrite_chain

from coauthor.core.book import BookMeta
from coauthor.core.chain import first_difference
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store import ProjectFile
from coauthor.store import verify as verify_module
from coauthor.store.activity import STATISTICS_KEY


def _build(path: Path) -> Project:
    tick = iter(range(1_700_000_000_000, 1_800_000_000_000, 3_000))
    project = Project(BookMeta(title="Two halves", author="Ann"), clock=lambda: next(tick))
    project_file = ProjectFile.create(path, project.meta)
    chapters = [project.add_chapter(f"Chapter {i}") for i in range(1, 7)]
    for i, chapter in enumerate(chapters):
        for j in range(40):
            project.insert(chapter, len(chapter.text), f"Line {i}.{j} of the book. ", Origin.HUMAN)
            if j % 7 == 3:
                project.delete(chapter, 2, 3)
        if i % 2 == 0:
            gid = project.new_generation_id()
            project.add_generation(Generation(gid, "embedded", "m", output="Model words here."))
            project.insert(chapter, 10, "Model words here.", Origin.AI, gid)
        project_file.flush(project)
    # A copy from chapter 1 pasted into every other chapter, and an undo of a deletion.
    fragment, source = project.register_copy(chapters[0], 5, 40)
    for chapter in chapters[1:]:
        project.insert_fragment(chapter, 0, fragment, source=source)
    removed = project.delete(chapters[3], 4, 20)
    assert project.last_removal is not None
    project.insert_fragment(chapters[3], 4, removed, source=(project.last_removal,))
    # An approval of the model text in chapter 5.
    gid = next(ref for _, o, ref in chapters[4].text.runs() if o is Origin.AI)
    assert gid is not None
    project.review(gid, ReviewState.APPROVED, "Ann", shown_ms=900)
    project_file.close(project)
    return project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Project]:
    path = tmp_path_factory.mktemp("parallel") / "book.coauthor"
    return path, _build(path)


def _verify(path: Path, *, parallel: bool, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(verify_module, "PARALLEL_FROM_EVENTS", 1 if parallel else 10**12)
    project_file = ProjectFile.open(path, readonly=True)
    try:
        return verify_module.verify(project_file)
    finally:
        project_file.close()


def test_an_honest_file_verifies_the_same_both_ways(built, monkeypatch) -> None:
    path, project = built
    one = _verify(path, parallel=False, monkeypatch=monkeypatch)
    two = _verify(path, parallel=True, monkeypatch=monkeypatch)
    assert one.ok, one.message
    assert two.ok, two.message
    assert one.events == two.events
    assert two.project is not None
    assert first_difference(two.project, project) is None
    assert {g: x.inserted_at for g, x in two.project.generations.items()} == {
        g: x.inserted_at for g, x in project.generations.items()
    }


def _relabel_pastes(event) -> None:
    if event.kind == "r" and event.runs and event.chapter != 1:
        event.runs = tuple((n, Origin.HUMAN, None) for n, _, _ in event.runs)


def _approval_without_text(event) -> None:
    if event.payload and '"op": "review"' in event.payload:
        data = json.loads(event.payload)
        data["generation"] = "g2"  # chapter 3's generation: pending, never approved ...
        event.payload = json.dumps(data, sort_keys=True)


def _change_one_old_hash(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE events SET inserted = 'Line 0.0 of the boom. ' WHERE seq = 9")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    "tamper",
    ["relabelled pastes", "late event changed", "early event changed", "snapshot", "statistics"],
)
def test_each_tampering_gets_the_same_verdict_both_ways(
    built, tmp_path: Path, monkeypatch, tamper: str
) -> None:
    path, _ = built
    copy = tmp_path / "copy.coauthor"
    shutil.copyfile(path, copy)
    if tamper == "relabelled pastes":
        rewrite_chain(copy, _relabel_pastes)
    elif tamper == "early event changed":
        _change_one_old_hash(copy)
    elif tamper == "late event changed":
        conn = sqlite3.connect(copy)
        last = conn.execute("SELECT max(seq) FROM events WHERE kind = 'e'").fetchone()[0]
        conn.execute("UPDATE events SET pos = pos + 1 WHERE seq = ?", (last,))
        conn.commit()
        conn.close()
    elif tamper == "statistics":
        _more_words_typed(copy)
    else:
        conn = sqlite3.connect(copy)
        conn.execute("""UPDATE chapters SET runs = replace(runs, '"a","g', '"h","g')""")
        conn.commit()
        conn.close()
    one = _verify(copy, parallel=False, monkeypatch=monkeypatch)
    two = _verify(copy, parallel=True, monkeypatch=monkeypatch)
    assert not one.ok
    assert not two.ok
    assert (one.bad_event, one.message) == (two.bad_event, two.message)
    if tamper == "statistics":
        assert "writing statistics stored in the file" in one.message


def _more_words_typed(path: Path) -> None:
    """The stored statistics' summary claims more words typed; its chain hash is kept."""
    conn = sqlite3.connect(path)
    (value,) = conn.execute("SELECT value FROM meta WHERE key = ?", (STATISTICS_KEY,)).fetchone()
    record = json.loads(value)
    tally = json.loads(record["tally"])
    tally["segments"][0][3] += 1000  # words typed, in the first quarter hour
    record["tally"] = json.dumps(tally)
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(record), STATISTICS_KEY))
    conn.commit()
    conn.close()


def test_the_statistics_are_checked_here_when_the_second_process_fails(
    built, tmp_path: Path, monkeypatch
) -> None:
    path, _ = built
    copy = tmp_path / "copy.coauthor"
    shutil.copyfile(path, copy)
    _more_words_typed(copy)
    # The pipe from the child breaks after its part, before its comparison of the statistics.
    answer = verify_module._SecondProcess._answer
    calls: list[int] = []

    def broken_after_the_part(self):
        calls.append(1)
        if len(calls) == 2 and self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        return answer(self)

    monkeypatch.setattr(verify_module._SecondProcess, "_answer", broken_after_the_part)
    result = _verify(copy, parallel=True, monkeypatch=monkeypatch)
    assert len(calls) == 2
    assert not result.ok
    assert "writing statistics stored in the file" in result.message


def test_an_approval_of_text_that_is_in_no_chapter_fails_both_ways(
    built, tmp_path: Path, monkeypatch
) -> None:
    path, _ = built
    copy = tmp_path / "copy.coauthor"
    shutil.copyfile(path, copy)
    # The generation approved is swapped for one whose text was never inserted.
    conn = sqlite3.connect(copy)
    conn.execute(
        "INSERT INTO events (seq, chapter, kind, pos, deleted, inserted, origin, ref, runs, "
        "payload, time, hash) SELECT max(seq) + 1, 0, 'm', 0, '', '', NULL, NULL, NULL, ?, 1, "
        "x'00' FROM events",
        (json.dumps({"op": "generation", "record": {"id": "g99", "output": "x"}}),),
    )
    conn.commit()
    conn.close()

    def approve_g99(event) -> None:
        if event.payload and '"op": "review"' in event.payload:
            data = json.loads(event.payload)
            data["generation"] = "g99"
            event.payload = json.dumps(data, sort_keys=True)

    rewrite_chain(copy, approve_g99)
    one = _verify(copy, parallel=False, monkeypatch=monkeypatch)
    two = _verify(copy, parallel=True, monkeypatch=monkeypatch)
    assert not one.ok
    assert not two.ok
    assert one.bad_event == two.bad_event
