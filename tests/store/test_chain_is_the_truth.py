"""The chain is the only truth: the cases of issue 9 where the record could be rewritten.

A project is imported from a real CoAuthor session (six generations pending review), then a copy
is changed behind the app's back with SQLite, or through the public Python API, as an adversary
would. Each way gets caught: ``verify`` exits 1 naming the problem, ``export`` refuses (exit 1,
one line pointing to ``coauthor verify``), and nothing the tables claim reaches an export.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from forge import rewrite_chain

from coauthor.core.book import BookMeta
from coauthor.core.history import event_hash
from coauthor.core.origin import Origin
from coauthor.core.project import Project, ProjectError
from coauthor.core.provenance import Fragment
from coauthor.store import ProjectFile
from coauthor.store.verify import checked_project, verify

SESSION = "114dfaf5c4a0437880b6829c92b9dce8.jsonl.gz"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, cli, data_dir: Path) -> Path:
    target = tmp_path_factory.mktemp("chain") / "base.coauthor"
    result = cli("import", data_dir / "coauthor" / SESSION, "--into", target)
    assert result.returncode == 0, result.stderr
    assert b"6 generations pending review" in result.stderr
    return target


@pytest.fixture
def copy(base: Path, tmp_path: Path) -> Path:
    target = tmp_path / "tampered.coauthor"
    shutil.copyfile(base, target)
    return target


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def _fails(result, *words: str) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 1, (result.stdout, stderr)
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    for word in words:
        assert word in stderr, stderr
    return stderr


def _export_refused(cli, path: Path, tmp_path: Path) -> str:
    out = tmp_path / "report.html"
    stderr = _fails(
        cli("export", path, "--format", "report", "--out", out), "does not check out", "verify"
    )
    assert not out.exists()
    return stderr


def test_the_untouched_import_verifies_and_its_export_is_refused_only_by_the_gate(
    base: Path, cli, tmp_path: Path
) -> None:
    assert cli("verify", base).returncode == 0
    result = cli("export", base, "--format", "report", "--out", tmp_path / "r.html")
    assert result.returncode == 3  # six passages pending review
    import re

    assert len(set(re.findall(r"generation (g\d+)", result.stderr.decode()))) == 6


def test_1_approval_written_into_the_generations_table_is_caught(
    copy: Path, cli, tmp_path: Path
) -> None:
    _sql(copy, "UPDATE generations SET review_state = 'approved', reviewer = 'forger'")
    _fails(cli("verify", copy), "generations table differs from the history", "review_state")
    _export_refused(cli, copy, tmp_path)
    # What the app loads comes from the chain: still pending, no "forger".
    project_file = ProjectFile.open(copy, readonly=True)
    try:
        project = project_file.load()
    finally:
        project_file.close()
    assert {g.review_state.value for g in project.generations.values()} == {"pending"}
    assert all(g.reviewer != "forger" for g in project.generations.values())


def test_generation_rows_an_older_coauthor_wrote_verify_and_a_changed_prompt_does_not(
    copy: Path, cli
) -> None:
    """Rows are compared text for text first; one whose JSON has its keys in another order (as
    Coauthor wrote them before it sorted them) is compared by what it says."""
    conn = sqlite3.connect(copy)
    gid, messages = conn.execute("SELECT id, messages FROM generations LIMIT 1").fetchone()
    reordered = json.dumps([dict(reversed(list(m.items()))) for m in json.loads(messages)])
    assert reordered != messages
    conn.execute("UPDATE generations SET messages = ? WHERE id = ?", (reordered, gid))
    conn.commit()
    assert cli("verify", copy).returncode == 0
    changed = json.loads(messages)
    changed[-1]["content"] += " (and more)"
    conn.execute("UPDATE generations SET messages = ? WHERE id = ?", (json.dumps(changed), gid))
    conn.commit()
    conn.close()
    _fails(cli("verify", copy), f"generation {gid}", "generations table differs", "messages")


def test_2_deleted_generation_records_are_caught(copy: Path, cli, tmp_path: Path) -> None:
    _sql(copy, "DELETE FROM generations")
    _fails(cli("verify", copy), "missing from the generations table")
    _export_refused(cli, copy, tmp_path)


def test_2b_ai_text_without_a_generation_in_the_chain_is_pending() -> None:
    from coauthor.core.policy import check_gate
    from coauthor.core.project import Project

    project = Project()
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "Words from nowhere.", Origin.AI, "g9")
    gate = check_gate(project.chapters, project.generations)
    assert not gate.allowed
    assert "which the record does not hold" in gate.passages[0].detail


def test_3_ai_relabelled_human_in_the_snapshot_is_caught(copy: Path, cli, tmp_path: Path) -> None:
    _sql(copy, """UPDATE chapters SET runs = replace(runs, '"a","g', '"h","g')""")
    _fails(cli("verify", copy), "stored origins differ")
    stderr = _export_refused(cli, copy, tmp_path)
    assert "no model text" not in stderr


def test_4_a_restore_cannot_relabel_text_through_the_api(copy: Path) -> None:
    project_file = ProjectFile.open(copy)
    try:
        project = project_file.load()
        chapter = project.chapters[0]
        pos = 0
        stretches = []
        for length, origin, _ in chapter.text.runs():
            if origin is Origin.AI:
                stretches.append((pos, length))
            pos += length
        assert stretches
        start, n = stretches[0]
        text = chapter.text.text_in(start, start + n)
        forged = Fragment(text, ((n, Origin.HUMAN, None),))
        with pytest.raises(ProjectError, match="cannot be put back"):
            project.insert_fragment(chapter, start, forged, delete=n)
        # Naming a source does not help unless the record holds exactly that text there.
        with pytest.raises(ProjectError):
            project.insert_fragment(
                chapter, start, forged, delete=n, source=((chapter.id, 1, start, n),)
            )
        assert chapter.text.origin_at(start)[0] is Origin.AI
    finally:
        project_file.close()


def test_4b_a_forged_restore_in_a_rehashed_chain_fails_verify(copy: Path, cli) -> None:
    """AI insertions turned into restores of human text, every hash recomputed."""

    def relabel(event) -> None:
        if event.kind == "e" and event.origin is Origin.AI and event.inserted:
            event.kind = "r"
            event.origin = None
            event.ref = None
            event.runs = ((len(event.inserted), Origin.HUMAN, None),)

    rewrite_chain(copy, relabel)
    _fails(cli("verify", copy), "without naming where it comes from")


def test_6_a_trigger_is_refused_on_open_and_the_file_is_unchanged(
    copy: Path, cli, tmp_path: Path, data_dir: Path
) -> None:
    _sql(
        copy,
        "CREATE TRIGGER t AFTER INSERT ON generations BEGIN "
        "UPDATE generations SET review_state = 'approved' WHERE id = NEW.id; END;",
    )
    before = copy.read_bytes()
    for args in (
        ("verify", copy),
        ("import", data_dir / "coauthor" / SESSION, "--into", copy),
        ("export", copy, "--format", "report", "--out", tmp_path / "r.html"),
    ):
        _fails(cli(*args), "a trigger named 't'", "did not create")
    assert copy.read_bytes() == before


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE VIEW v AS SELECT * FROM generations",
        "CREATE INDEX i ON generations (reviewer)",
        "CREATE TABLE extra (x)",
        "ALTER TABLE generations ADD COLUMN approved_by TEXT DEFAULT 'forger'",
    ],
)
def test_6b_any_schema_object_we_did_not_create_is_refused(copy: Path, cli, statement: str) -> None:
    _sql(copy, statement)
    _fails(cli("verify", copy), "did not create", "nothing in it was changed")


def _append_fact(path: Path, payload: dict, chapter: int = 0) -> None:
    """Append one fact event hashed onto the chain, as a forger with this source code could."""
    import json

    from coauthor.core.history import EditEvent

    conn = sqlite3.connect(path)
    try:
        seq, digest, when = conn.execute(
            "SELECT seq, hash, time FROM events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        event = EditEvent(
            seq + 1, chapter, "m", 0, "", "", None, None, None, json.dumps(payload), when + 1
        )
        event.hash = event_hash(bytes(digest), event)
        conn.execute(
            "INSERT INTO events (seq, chapter, kind, pos, deleted, inserted, origin, ref, runs, "
            "payload, time, hash) VALUES (?,?,'m',0,'','',NULL,NULL,NULL,?,?,?)",
            (event.seq, chapter, event.payload, event.time, event.hash),
        )
        conn.commit()
    finally:
        conn.close()


def _first_generation(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id FROM generations ORDER BY rowid LIMIT 1").fetchone()[0]
    finally:
        conn.close()


def test_an_approval_in_the_chain_of_a_passage_never_shown_fails_verify(copy: Path, cli) -> None:
    gid = _first_generation(copy)
    _append_fact(copy, {"op": "review", "generation": gid, "state": "approved", "reviewer": "x"})
    _fails(cli("verify", copy), "never shown")


def test_an_approval_in_the_chain_of_a_removed_chapter_fails_verify(copy: Path, cli) -> None:
    gid = _first_generation(copy)
    conn = sqlite3.connect(copy)
    try:
        chapter = conn.execute("SELECT id FROM chapters LIMIT 1").fetchone()[0]
    finally:
        conn.close()
    _append_fact(copy, {"op": "chapter-remove"}, chapter)
    _append_fact(copy, {"op": "review", "generation": gid, "state": "approved", "shown_ms": 5})
    _fails(cli("verify", copy), "none of its text is in the book")


def test_verify_returns_the_project_the_chain_describes(base: Path) -> None:
    project_file = ProjectFile.open(base, readonly=True)
    try:
        result = verify(project_file)
        loaded = project_file.load()
    finally:
        project_file.close()
    assert result.ok, result.message
    assert result.project is not None
    assert [c.text.text for c in result.project.chapters] == [c.text.text for c in loaded.chapters]
    assert set(result.project.generations) == set(loaded.generations)


def test_facts_recorded_as_the_clock_ticks_verify(tmp_path: Path) -> None:
    # An override and a signing key each carry a time, and so does the event that records it.
    # Read from the clock twice, the two could fall a millisecond apart, and verify (which dates
    # the fact by its event) then refused the project's exports. This clock ticks on every read.
    ticks = iter(range(1_000_000, 2_000_000))
    project = Project(BookMeta(title="Ticking"), clock=lambda: next(ticks))
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "A passage the screening flagged.", Origin.HUMAN)
    override = project.record_override("0" * 64, ("harassment",), "A quotation.", "Ada")
    key = project.record_signing_key("ab" * 16, "cd" * 16, "Ada")
    path = tmp_path / "ticking.coauthor"
    ProjectFile.create(path, project.meta).close(project)
    project_file = ProjectFile.open(path, readonly=True)
    try:
        checked = checked_project(project_file)  # what every export runs first
    finally:
        project_file.close()
    assert checked.overrides["0" * 64].time == override.time
    assert checked.signing_keys["ab" * 16].time == key.time
