"""The chain replayer: a project rebuilt from its events alone equals the project that made them,
and every restore (undo, move, paste inside the app) is backed by the state it names."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coauthor.core.book import BookMeta
from coauthor.core.chain import ChainReplayer, first_difference, restore_source
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.history import EditEvent
from coauthor.core.origin import Origin
from coauthor.core.project import Project, ProjectError
from coauthor.core.provenance import Fragment


def _sealed(project: Project) -> list[EditEvent]:
    return project.history.seal()


def _replay(events: list[EditEvent], *, strict: bool = True) -> ChainReplayer:
    wanted = [piece for e in events for piece in (restore_source(e) or ())]
    replayer = ChainReplayer(strict=strict, wanted=wanted)
    for event in events:
        replayer.feed(event)
    return replayer


def _clock():
    now = [1_700_000_000_000]

    def tick() -> int:
        now[0] += 700  # some events coalesce (< 2 s apart), some do not
        return now[0]

    return tick


def test_a_project_replays_to_itself_with_every_fact() -> None:
    project = Project(BookMeta(title="T", author="A"), clock=_clock())
    one = project.add_chapter("One")
    two = project.add_chapter("Two", 0)
    project.insert(one, 0, "Hello world.", Origin.HUMAN)
    g = project.add_generation(Generation("g1", "embedded", "m", output=" More."))
    project.insert(one, len(one.text), " More.", Origin.AI, "g1")
    project.review("g1", ReviewState.APPROVED, "Ann", shown_ms=1500)
    project.rename_chapter(two, "Deux")
    project.remove_chapter(two)
    project.record_signing_key("ab12", "cHVi", "Ann")
    events = _sealed(project)
    replayer = _replay(events)
    assert replayer.issues == []
    chained = replayer.finish()
    assert first_difference(chained, project) is None
    assert chained.generations["g1"].review_state is ReviewState.APPROVED
    assert chained.generations["g1"].reviewer == "Ann"
    assert chained.generations["g1"].inserted_at == g.inserted_at
    assert [c.title for c in chained.removed_chapters] == ["Deux"]
    assert chained.meta.title == "T"
    assert chained.signing_keys["ab12"].name == "Ann"
    assert [(r.generation, r.state, r.shown_ms) for r in chained.review_log] == [
        ("g1", ReviewState.APPROVED, 1500)
    ]


def test_undo_of_a_burst_of_backspaces_names_each_removal() -> None:
    project = Project(clock=_clock())
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "abcdef", Origin.HUMAN)
    project.insert(chapter, 6, "XYZ", Origin.AI, "g1")
    pieces = []
    for pos in (8, 7, 6, 5):  # backspace over "ZYX" then "f": one growing event
        project.replace(chapter, pos, 1, "", Origin.HUMAN)
        assert project.last_removal is not None
        pieces.insert(0, project.last_removal)
    forward = []
    for _ in range(2):  # forward delete at 2 ("c", "d")
        project.delete(chapter, 2, 1)
        assert project.last_removal is not None
        forward.append(project.last_removal)
    restored = Fragment("cd", ((2, Origin.HUMAN, None),))
    project.insert_fragment(chapter, 2, restored, source=tuple(forward))
    back = Fragment("fXYZ", ((1, Origin.HUMAN, None), (3, Origin.AI, "g1")))
    project.insert_fragment(chapter, 5, back, source=tuple(pieces))
    assert chapter.text.text == "abcdefXYZ"
    replayer = _replay(_sealed(project))
    assert replayer.issues == []
    assert first_difference(replayer.finish(), project) is None


def test_a_copy_is_backed_even_when_typing_goes_on_after_it() -> None:
    project = Project(clock=lambda: 1_000)  # one instant: everything would coalesce
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "abc", Origin.HUMAN)
    project.insert(chapter, 3, "XY", Origin.AI, "g1")
    fragment, source = project.register_copy(chapter, 1, 5)
    project.insert(chapter, 3, "def", Origin.HUMAN)  # would have grown the "abc" event
    project.insert_fragment(chapter, 0, fragment, source=source)
    replayer = _replay(_sealed(project))
    assert replayer.issues == []
    assert first_difference(replayer.finish(), project) is None


def test_a_restore_without_a_source_or_with_a_wrong_one_is_refused() -> None:
    project = Project()
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "model text", Origin.AI, "g1")
    human = Fragment("model text", ((10, Origin.HUMAN, None),))
    with pytest.raises(ProjectError):
        project.insert_fragment(chapter, 0, human, delete=10)
    fragment, source = project.register_copy(chapter, 0, 10)
    with pytest.raises(ProjectError):
        project.insert_fragment(chapter, 0, human, delete=10, source=source)
    with pytest.raises(ProjectError):
        project.insert_fragment(chapter, 0, fragment, source=((chapter.id, 999, 0, 10),))
    assert list(chapter.text.runs()) == [(10, Origin.AI, "g1")]


def test_a_forged_restore_event_is_named_by_the_strict_replay() -> None:
    project = Project()
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "model text", Origin.AI, "g1")
    fragment, source = project.register_copy(chapter, 0, 10)
    project.insert_fragment(chapter, 10, fragment, source=source)
    events = _sealed(project)
    restore = events[-1]
    restore.runs = ((10, Origin.HUMAN, None),)  # relabelled (hash recomputed by the replay)
    from coauthor.core.history import GENESIS, event_hash

    prev = GENESIS
    for event in events:
        event.hash = prev = event_hash(prev, event)
    replayer = _replay(events)
    assert [i.seq for i in replayer.issues] == [restore.seq]
    assert "differ from its source" in replayer.issues[0].message
    restore.payload = None
    prev = GENESIS
    for event in events:
        event.hash = prev = event_hash(prev, event)
    assert "without naming" in _replay(events).issues[0].message


def test_approval_needs_text_in_the_book_and_time_on_screen() -> None:
    project = Project()
    chapter = project.add_chapter("One")
    project.add_generation(Generation("g1", "embedded", "m", output="x"))
    with pytest.raises(ProjectError, match="no text in the book"):
        project.review("g1", ReviewState.APPROVED, "Ann", shown_ms=10)
    project.insert(chapter, 0, "x", Origin.AI, "g1")
    with pytest.raises(ProjectError, match="not been shown"):
        project.review("g1", ReviewState.APPROVED, "Ann")
    project.remove_chapter(chapter)
    with pytest.raises(ProjectError, match="no text in the book"):
        project.review("g1", ReviewState.APPROVED, "Ann", shown_ms=10)
    project.review("g1", ReviewState.REJECTED, "Ann")  # rejecting is always possible
    with pytest.raises(ProjectError, match="holds no generation"):
        project.review("g9", ReviewState.REJECTED, "Ann")


def test_a_tampered_meta_payload_is_an_issue_not_a_crash() -> None:
    project = Project()
    project.add_chapter("One")
    events = _sealed(project)
    events[-1].payload = "[1, 2"
    replayer = _replay(events, strict=False)
    assert "cannot be read" in replayer.issues[0].message


def test_how_a_chapter_is_read_is_in_the_chain() -> None:
    """Markdown or plain text: recorded when the chapter is added and when it changes."""
    project = Project()
    plain = project.add_chapter("Imported", markup="plain")
    written = project.add_chapter("Written")
    project.set_markup(written, "plain")
    project.set_markup(written, "markdown")
    project.set_markup(written, "markdown")  # no change: no event
    events = _sealed(project)
    ops = [json.loads(e.payload or "{}").get("op") for e in events]
    assert ops.count("chapter-markup") == 2
    chained = _replay(events).finish()
    assert [c.markup for c in chained.chapters] == ["plain", "markdown"]
    assert plain.markup == "plain"
    with pytest.raises(ProjectError, match="unknown markup 'html'"):
        project.set_markup(written, "html")
    with pytest.raises(ProjectError, match="unknown markup"):
        project.add_chapter("X", markup="rtf")


def test_an_unknown_markup_in_the_chain_is_named() -> None:
    project = Project()
    project.add_chapter("One", markup="plain")
    events = _sealed(project)
    events[-1].payload = (events[-1].payload or "").replace('"plain"', '"html"')
    replayer = _replay(events, strict=False)
    assert "unknown markup 'html'" in replayer.issues[0].message
    assert replayer.finish().chapters[0].markup == "plain"  # shown literally, never as HTML


# -- reports of problematic generations -------------------------------------------------------


def _reported() -> Project:
    project = Project(BookMeta(title="T", author="Ann"), clock=_clock())
    chapter = project.add_chapter("One")
    project.add_generation(Generation("g1", "openai", "gpt-4o-mini", output="The moon is cheese."))
    project.insert(chapter, 0, "The moon is cheese.", Origin.AI, "g1")
    project.record_report(
        "g1",
        "factual error",
        "The moon is not made of cheese.",
        by="Ann",
        include_context=True,
        bundle_sha256="ab" * 32,
    )
    return project


def test_a_report_is_in_the_chain_and_replays_strictly() -> None:
    project = _reported()
    [report] = project.reports
    assert (report.generation, report.category, report.by, report.context) == (
        "g1",
        "factual error",
        "Ann",
        True,
    )
    replayer = _replay(_sealed(project))
    assert replayer.issues == []
    assert replayer.finish().reports == project.reports


def test_a_report_needs_a_known_generation_a_category_and_a_reason() -> None:
    project = _reported()
    with pytest.raises(ProjectError, match=r"^a report needs a reason: say what is wrong"):
        project.record_report("g1", "harmful", "  \n ", by="Ann", include_context=False)
    with pytest.raises(ProjectError, match="'rude' is not a report category"):
        project.record_report("g1", "rude", "It insults me.", by="Ann", include_context=False)
    with pytest.raises(ProjectError, match="holds no generation g9"):
        project.record_report("g9", "harmful", "It insults me.", by="Ann", include_context=False)
    assert len(project.reports) == 1


def _forge(events: list[EditEvent], old: str, new: str) -> EditEvent:
    """Rewrite the last event's payload and recompute every hash (a forger with the file)."""
    from coauthor.core.history import GENESIS, event_hash

    forged = events[-1]
    forged.payload = (forged.payload or "").replace(old, new)
    prev = GENESIS
    for event in events:
        event.hash = prev = event_hash(prev, event)
    return forged


def test_a_forged_report_of_an_unknown_generation_is_named() -> None:
    events = _sealed(_reported())
    forged = _forge(events, '"generation": "g1"', '"generation": "g7"')
    replayer = _replay(events)
    assert [(i.seq, i.message) for i in replayer.issues] == [
        (forged.seq, f"event {forged.seq} reports generation g7, which the record does not hold")
    ]
    assert replayer.finish().reports == []


def test_a_forged_report_category_is_named_by_the_strict_replay() -> None:
    events = _sealed(_reported())
    forged = _forge(events, '"factual error"', '"libel"')
    assert [i.message for i in _replay(events).issues] == [
        f"event {forged.seq} reports generation g1 under the unknown category 'libel'"
    ]
    assert _replay(events, strict=False).issues == []  # opening the book does not judge it


# -- property: random editing with undo, moves and copies replays exactly --------------------

_ops = st.lists(
    st.tuples(
        st.sampled_from(["type", "ai", "backspace", "delete", "undo", "copy", "paste", "cut"]),
        st.integers(0, 10_000),
        st.integers(1, 6),
        st.text(alphabet="ab ✓\U0001f600", min_size=1, max_size=5),
    ),
    max_size=60,
)


@settings(max_examples=60)
@given(_ops)
def test_random_editing_with_undo_and_copies_replays_strictly(ops) -> None:
    project = Project(clock=_clock())
    chapter = project.add_chapter("One")
    project.add_generation(Generation("g1", "embedded", "m"))
    undo: list[tuple[int, int, Fragment, tuple]] = []  # (pos, added length, removed, source)
    clipboard: tuple[Fragment, tuple] | None = None
    for kind, at, n, text in ops:
        size = len(chapter.text)
        pos = at % (size + 1)
        if kind in ("type", "ai"):
            origin, ref = (Origin.HUMAN, None) if kind == "type" else (Origin.AI, "g1")
            project.insert(chapter, pos, text, origin, ref)
            undo.append((pos, len(text), Fragment("", ()), ()))
        elif kind in ("backspace", "delete", "cut") and size:
            n = min(n, size - pos) or 0
            if not n:
                continue
            if kind == "cut":
                clipboard = project.register_copy(chapter, pos, pos + n)
            removed = project.delete(chapter, pos, n)
            assert project.last_removal is not None
            undo.append((pos, 0, removed, (project.last_removal,)))
        elif kind == "undo" and undo:
            upos, added, removed, source = undo.pop()
            if upos + added <= len(chapter.text):
                project.insert_fragment(chapter, upos, removed, source=source, delete=added)
        elif kind == "copy" and size:
            clipboard = project.register_copy(chapter, pos, min(size, pos + n))
        elif kind == "paste" and clipboard is not None and clipboard[0].text:
            project.insert_fragment(chapter, pos, clipboard[0], source=clipboard[1])
    events = _sealed(project)
    replayer = _replay(events)
    assert replayer.issues == []
    assert first_difference(replayer.finish(), project) is None
    # The events survive a trip through their stored form (JSON payloads).
    for event in events:
        if event.payload:
            json.loads(event.payload)
