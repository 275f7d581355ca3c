"""The history timeline: the text at every position equals a full replay of the record.

Histories are drawn as random edits made through ``Project`` (typing that coalesces, deletions,
generated, pasted and imported text, text moved with its origins, in two chapters), so the
events are the ones the app records. The timeline is built with checkpoints every few events
and compared, position by position, with a naive replay of every event from the start.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coauthor.core.book import BookMeta
from coauthor.core.history import META, EditEvent, apply_event
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.core.provenance import ProvenanceText
from coauthor.core.timeline import ChapterTrack, Timeline, describe_event, restore_window

pytestmark = pytest.mark.core

WORDS = ["the ", "sea ", "é", "😀", "漢字", "\n", "night, ", "a"]
ORIGINS = [Origin.HUMAN, Origin.AI, Origin.PASTED, Origin.IMPORTED]

op = st.tuples(
    st.integers(0, 6),  # what
    st.integers(0, 1),  # chapter
    st.integers(0, 10_000),  # position, reduced modulo the length
    st.integers(0, 40),  # length
    st.sampled_from(WORDS),
    st.sampled_from(ORIGINS),
    st.integers(0, 3),  # generation or import number
    st.integers(0, 3_000),  # time step (ms): under 2 s, typing coalesces
)


def record(ops: list[tuple]) -> tuple[Project, list[EditEvent]]:
    """The events a project records for ``ops`` (sealed, as the store keeps them)."""
    now = [1_700_000_000_000]
    project = Project(BookMeta(title="T"), clock=lambda: now[0])
    chapters = [project.add_chapter("One"), project.add_chapter("Two")]
    sealed: list[EditEvent] = []
    for what, which, pos, length, word, origin, number, step in ops:
        now[0] += step
        chapter = chapters[which]
        size = len(chapter.text)
        at = pos % (size + 1)
        n = min(length, size - at)
        ref = f"g{number}" if origin is Origin.AI else f"i{number}"
        ref = None if origin in (Origin.HUMAN, Origin.PASTED) else ref
        if what <= 2:
            project.insert(chapter, at, word, Origin.HUMAN if what < 2 else origin, ref)
        elif what == 3 and n:
            project.delete(chapter, at, n)
        elif what == 4:
            project.replace(chapter, at, n, word * 2, origin, ref)
        elif what == 5 and n:
            # Moved inside the app: cut here, put back elsewhere with its origins.
            fragment, source = project.register_copy(chapter, at, at + n)
            target = chapters[1 - which]
            project.insert_fragment(target, pos % (len(target.text) + 1), fragment, source=source)
        elif what == 6:
            sealed.extend(project.history.seal())  # a flush: nothing grows past it
    return project, [*sealed, *project.history.seal()]


def naive(events: list[EditEvent], chapter: int, upto: int) -> ProvenanceText:
    text = ProvenanceText()
    for event in events:
        if event.seq <= upto and event.chapter == chapter and event.kind != META:
            apply_event(text, event)
    return text


def same(a: ProvenanceText, b: ProvenanceText) -> bool:
    return a.text == b.text and list(a.runs()) == list(b.runs())


@settings(max_examples=60, deadline=None)
@given(st.lists(op, max_size=60), st.integers(1, 7))
def test_every_position_of_a_chapter_equals_a_full_replay(ops: list[tuple], every: int) -> None:
    project, events = record(ops)
    for chapter in project.chapters:
        timeline = Timeline.build(events, chapter=chapter.id, every=every)
        assert len(timeline) == sum(1 for e in events if e.chapter == chapter.id and e.kind != META)
        for position in range(len(timeline) + 1):
            shown = timeline.text_at(position)
            assert same(shown, naive(events, chapter.id, timeline.seq_at(position)))
        # The last position is the chapter as the author sees it now.
        assert same(timeline.text_at(len(timeline)), chapter.text)


@settings(max_examples=40, deadline=None)
@given(st.lists(op, max_size=60), st.integers(1, 7))
def test_every_position_of_the_book_shows_the_chapter_its_event_edited(
    ops: list[tuple], every: int
) -> None:
    project, events = record(ops)
    timeline = Timeline.build(events, every=every)
    assert timeline.chapter_at(0) is None
    for position in range(1, len(timeline) + 1):
        event = timeline.event_at(position)
        assert event is not None
        assert timeline.chapter_at(position) == event.chapter
        assert timeline.position_of(event.seq) == position
        for chapter in project.chapters:  # every chapter as it was at that moment
            expected = naive(events, chapter.id, event.seq)
            assert same(timeline.text_at(position, chapter.id), expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(op, max_size=50), st.integers(0, 60))
def test_restoring_the_window_gives_the_past_text_and_origins(ops: list[tuple], pick: int) -> None:
    project, events = record(ops)
    chapter = project.chapters[0]
    timeline = Timeline.build(events, chapter=chapter.id, every=3)
    past = timeline.text_at(pick % (len(timeline) + 1))
    current = chapter.text.copy()
    window = restore_window(current, past)
    if window is None:
        assert same(current, past)
        return
    current.delete(window.start, window.current_end - window.start)
    current.insert_fragment(window.start, past.slice(window.start, window.past_end))
    assert same(current, past)


def test_a_change_of_origin_alone_is_inside_the_window() -> None:
    current = ProvenanceText.from_runs("abcdef", [(6, Origin.HUMAN, None)])
    past = ProvenanceText.from_runs(
        "abcdef", [(2, Origin.HUMAN, None), (2, Origin.AI, "g1"), (2, Origin.HUMAN, None)]
    )
    window = restore_window(current, past)
    assert window is not None
    assert (window.start, window.current_end, window.past_end) == (2, 4, 4)
    assert restore_window(past, past.copy()) is None


def test_refresh_reads_only_new_events_and_positions_follow() -> None:
    project, events = record([(0, 0, 0, 0, "the ", Origin.HUMAN, 0, 5000)] * 6)
    head, tail = events[:5], events[5:]
    timeline = Timeline.build(head, chapter=project.chapters[0].id, every=2)
    steps = len(timeline)
    assert timeline.extend(head) == 0  # already read: nothing added twice
    assert timeline.extend(tail) == len(timeline) - steps
    assert timeline.text_at(len(timeline)).text == project.chapters[0].text.text


def test_a_track_keeps_a_checkpoint_every_few_events() -> None:
    track = ChapterTrack(1, every=4)
    for i in range(10):
        track.append(EditEvent(i + 1, 1, "e", i, "", "x", Origin.HUMAN, None, None, None, i))
    assert track.text_after(9).text == "x" * 9
    assert track.text_after(0).text == ""
    with pytest.raises(ValueError, match="at least one event"):
        ChapterTrack(1, every=0)


def test_events_are_described_for_the_author() -> None:
    typed = EditEvent(1, 1, "e", 12, "", "hello", Origin.HUMAN, None, None, None, 0)
    generated = EditEvent(2, 1, "e", 0, "ab", "xyz", Origin.AI, "g7", None, None, 0)
    assert describe_event(typed) == "typed 5 characters at 12"
    assert describe_event(generated) == (
        "deleted 2 characters, inserted 3 characters of generation g7 at 0"
    )
