"""Writing by day (``core.daily``): what counts as words written, time and sessions, days in
any time zone, streaks and goals, the CSV; and that the running summary, fed in any pieces
and cached as JSON in between, gives the same figures as one pass."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from coauthor.core.book import BookMeta
from coauthor.core.daily import (
    CSV_HEADER,
    SESSION_GAP_MS,
    DayFigures,
    Goals,
    Tally,
    by_day,
    daily_csv,
    event_row,
    goal_progress,
    read_tally_record,
    streak,
    tally_record,
)
from coauthor.core.history import EDIT, RESTORE
from coauthor.core.origin import Origin
from coauthor.core.project import Project

UTC = dt.UTC
T0 = int(dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp() * 1000)  # a Monday, 09:00 UTC
MIN = 60_000


def row(seq, pos, inserted="", deleted=0, origin="h", time=T0, kind=EDIT, chapter=1):
    return (seq, chapter, kind, pos, time, origin if kind == EDIT and inserted else None,
            inserted, deleted)  # fmt: skip


def tally_of(rows) -> Tally:
    tally = Tally()
    tally.feed(rows)
    return tally


def only_day(tally: Tally) -> DayFigures:
    (day,) = by_day(tally, UTC)
    return day


# -- words written ------------------------------------------------------------------------------


@given(
    text=st.text(alphabet="ab \n", max_size=60),
    cuts=st.lists(st.integers(min_value=1, max_value=60), max_size=10),
)
def test_text_typed_in_any_bursts_at_one_place_counts_its_words_once(text, cuts) -> None:
    bounds = sorted({c for c in cuts if c < len(text)} | {0, len(text)})
    rows = [
        row(i + 1, a, text[a:b], time=T0 + i * 1000)
        for i, (a, b) in enumerate(itertools.pairwise(bounds))
    ]
    day = by_day(tally_of(rows), UTC)
    words = day[0].words[Origin.HUMAN] if day else 0
    assert words == len(text.split())


def test_a_backspace_inside_the_word_being_typed_does_not_make_two_words() -> None:
    rows = [
        row(1, 0, "Hello wor"),
        row(2, 7, deleted=2),  # "or" backspaced
        row(3, 7, "orld "),
    ]
    assert only_day(tally_of(rows)).words[Origin.HUMAN] == 2


def test_text_inserted_elsewhere_starts_a_new_word() -> None:
    rows = [row(1, 0, "Hello world"), row(2, 2, "xx")]  # inside "Hello": counted as a word
    assert only_day(tally_of(rows)).words[Origin.HUMAN] == 3


def test_a_word_is_counted_for_the_origin_that_started_it() -> None:
    rows = [row(1, 0, "The dog wal", origin="a"), row(2, 11, "ks home", origin="h")]
    day = only_day(tally_of(rows))
    assert day.words[Origin.AI] == 3
    assert day.words[Origin.HUMAN] == 1
    assert day.chars == {Origin.HUMAN: 7, Origin.AI: 11, Origin.PASTED: 0, Origin.IMPORTED: 0}


def test_restored_text_is_not_new_writing_and_deletions_are_apart() -> None:
    rows = [
        row(1, 0, "one two three"),
        row(2, 4, deleted=4),  # "two " deleted
        row(3, 4, "two ", kind=RESTORE),  # and undone
        row(4, 0, "Now ", origin="p"),
    ]
    day = only_day(tally_of(rows))
    assert day.words == {Origin.HUMAN: 3, Origin.AI: 0, Origin.PASTED: 1, Origin.IMPORTED: 0}
    assert (day.deleted, day.restored) == (4, 4)


def test_a_replacement_counts_its_deleted_characters_and_its_new_words() -> None:
    rows = [row(1, 0, "A grey day."), row(2, 2, "silver", deleted=4, time=T0 + MIN)]
    day = only_day(tally_of(rows))
    assert (day.words[Origin.HUMAN], day.deleted) == (4, 4)


def test_chapters_keep_their_own_insertion_points() -> None:
    rows = [
        row(1, 0, "Once upon", chapter=1),
        row(2, 0, "Notes", chapter=2),
        row(3, 9, " a time", chapter=1),
        row(4, 5, "more", chapter=2),  # continues "Notes" into "Notesmore": one word
    ]
    assert only_day(tally_of(rows)).words[Origin.HUMAN] == 5


ops = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete", "restore"]),
        st.integers(min_value=0, max_value=10_000),
        st.text(alphabet="xy \n", min_size=1, max_size=12),
        st.sampled_from(list(Origin)),
        st.integers(min_value=0, max_value=20 * MIN),
    ),
    max_size=40,
)


def _history(operations) -> Project:
    """A project with a history made through its own API (one event per operation)."""
    now = [T0]
    project = Project(BookMeta(), clock=lambda: now[0])
    project.history.coalesce = False
    chapter = project.add_chapter("One")
    for op, at, text, origin, pause in operations:
        now[0] += pause
        pos = at % (len(chapter.text) + 1)
        if op == "insert":
            ref = "g1" if origin is Origin.AI else "i1" if origin is Origin.IMPORTED else None
            project.insert(chapter, pos, text, origin, ref)
        elif op == "delete" and len(chapter.text) > pos:
            project.delete(chapter, pos, min(len(text), len(chapter.text) - pos))
        elif op == "restore" and len(chapter.text) > pos:
            end = min(len(chapter.text), pos + len(text))
            fragment, source = project.register_copy(chapter, pos, end)
            project.insert_fragment(chapter, len(chapter.text), fragment, source=source)
    return project


@given(ops)
def test_the_characters_by_origin_are_the_process_measure(operations) -> None:
    project = _history(operations)
    tally = Tally()
    tally.feed_events(project.history.pending)
    days = by_day(tally, UTC)
    for origin in Origin:
        assert sum(d.chars[origin] for d in days) == project.chapters[0].process[origin]
    events = project.history.pending
    assert sum(d.restored for d in days) == sum(
        len(e.inserted) for e in events if e.kind == RESTORE
    )
    assert sum(d.deleted for d in days) == sum(len(e.deleted) for e in events)


@given(ops, st.data())
def test_fed_in_pieces_and_cached_between_them_the_summary_is_the_same(operations, data) -> None:
    rows = [event_row(e) for e in _history(operations).history.pending]
    whole = tally_of(rows)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=4)))
    pieces = Tally()
    start = 0
    for cut in [*cuts, len(rows)]:
        pieces.feed(rows[start:cut])
        start = max(start, cut)
        restored = Tally.from_json(pieces.to_json())
        assert restored is not None
        pieces = restored
    assert pieces == whole
    assert by_day(pieces) == by_day(whole)


def test_a_cache_of_another_version_or_damaged_is_not_used() -> None:
    assert Tally.from_json("{") is None
    assert Tally.from_json('{"version": 99, "slot_ms": 1, "gap_ms": 1}') is None
    good = tally_of([row(1, 0, "a b")]).to_json()
    assert Tally.from_json(good) == tally_of([row(1, 0, "a b")])
    assert Tally.from_json(good.replace('"segments":[[', '"segments":[[1,')) is None


def test_a_summary_with_negative_counts_or_wrong_types_is_not_read() -> None:
    good = tally_of([row(1, 0, "a b")])
    assert Tally.from_json(good.to_json()) == good
    for bad in (
        good.to_json().replace('"seq":1', '"seq":-1'),
        good.to_json().replace('"seq":1', '"seq":1.5'),
        good.to_json().replace('"seq":1', '"seq":true'),
        good.to_json().replace('"tails":[[1,3,"a b"]]', '"tails":[[1,3,7]]'),
        good.to_json().replace('"tails":[[1,3,"a b"]]', f'"tails":[[1,3,"{"x" * 65}"]]'),
    ):
        assert bad != good.to_json()
        assert Tally.from_json(bad) is None, bad
    negative = good.copy()
    negative.segments[0][3] = -2  # words typed
    assert Tally.from_json(negative.to_json()) is None
    record = tally_record(good, b"\x01" * 32)
    assert read_tally_record(record) == (good, b"\x01" * 32)
    assert read_tally_record(record.replace('"hash": "01', '"hash": "zz')) is None
    assert read_tally_record("[1]") is None


def test_a_copy_fed_on_leaves_the_original_as_it_was() -> None:
    earlier = [row(1, 0, "one two"), row(2, 7, " three")]
    later = [row(3, 13, "four"), row(4, 0, "x", chapter=2, time=T0 + 90 * MIN)]
    first = tally_of(earlier)
    before = Tally.from_json(first.to_json())
    fed = first.copy()
    fed.feed(later)
    assert first == before
    assert not fed.same_figures(first)
    fed.seq = 99  # a summary fed whole events ends at the last event, whatever its kind
    assert fed.same_figures(tally_of(earlier + later))


def test_changes_dated_outside_any_calendar_are_left_out_of_the_days() -> None:
    tally = tally_of([row(1, 0, "far future", time=10**18), row(2, 10, " today")])
    assert [d.date for d in by_day(tally, UTC)] == [dt.date(2026, 3, 2)]


# -- time and sessions ---------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=12 * MIN), min_size=1, max_size=50))
def test_time_writing_adds_the_pauses_of_at_most_five_minutes(pauses) -> None:
    times = []
    t = T0
    for p in pauses:
        t += p
        times.append(t)
    rows = [row(i + 1, i, "x", time=when) for i, when in enumerate(times)]
    days = by_day(tally_of(rows), UTC)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert sum(d.sessions for d in days) == 1 + sum(g > SESSION_GAP_MS for g in gaps)
    total_ms = sum(g for g in gaps if g <= SESSION_GAP_MS)
    assert abs(sum(d.seconds for d in days) - total_ms // 1000) <= len(days)


def test_an_import_takes_no_time_and_a_clock_going_back_starts_a_session() -> None:
    rows = [
        row(1, 0, "Imported chapter text", origin="i", time=T0),
        row(2, 0, "Typed ", time=T0 + MIN),
        row(3, 6, "more ", time=T0 + 3 * MIN),
        row(4, 11, "back ", time=T0 + 2 * MIN),  # the clock went back a minute
    ]
    day = only_day(tally_of(rows))
    assert (day.sessions, day.seconds) == (2, 120)
    assert day.words[Origin.IMPORTED] == 3


def test_days_are_local_days_in_any_time_zone() -> None:
    late = int(dt.datetime(2026, 3, 2, 23, 58, tzinfo=UTC).timestamp() * 1000)
    rows = [row(1, 0, "one ", time=late), row(2, 4, "two ", time=late + 4 * MIN)]
    assert [d.date.day for d in by_day(tally_of(rows), UTC)] == [2, 3]
    nepal = dt.timezone(dt.timedelta(hours=5, minutes=45))
    assert [d.date.day for d in by_day(tally_of(rows), nepal)] == [3]
    hawaii = dt.timezone(dt.timedelta(hours=-10))
    (day,) = by_day(tally_of(rows), hawaii)
    assert (day.date.day, day.words[Origin.HUMAN], day.sessions, day.seconds) == (2, 2, 1, 240)


# -- goals, streaks, CSV ----------------------------------------------------------------------


def _day(date: dt.date, typed: int, **other: int) -> DayFigures:
    words = dict.fromkeys(Origin, 0) | {Origin.HUMAN: typed}
    words |= {Origin(k): v for k, v in other.items()}
    return DayFigures(date, words, dict.fromkeys(Origin, 0), 0, 0, 1, 600)


def test_the_streak_counts_days_in_a_row_that_met_the_daily_goal() -> None:
    today = dt.date(2026, 3, 10)
    days = [_day(today - dt.timedelta(days=n), w) for n, w in [(4, 600), (3, 100), (2, 700),
                                                               (1, 500), (0, 20)]]  # fmt: skip
    assert streak(days, today, 500) == 2  # today not yet reached: the streak up to yesterday
    assert streak(days, today, 0) == 5  # no goal: any typing counts
    assert streak(days, today + dt.timedelta(days=2), 500) == 0
    assert streak(days, today, 10) == 5


def test_goal_progress_says_what_is_left_to_write_a_day() -> None:
    today = dt.date(2026, 3, 10)
    days = [_day(today, 320, ai=900)]  # the model's words do not count towards the daily goal
    goals = Goals(daily_words=500, book_words=50_000, deadline=today + dt.timedelta(days=9))
    progress = goal_progress(goals, days, book_words=40_000, today=today)
    assert (progress.typed_today, progress.days_left, progress.per_day_needed) == (320, 10, 1000)
    assert progress.status_text() == "Typed today 320/500 · book 40,000/50,000"
    assert "1,000 words a day reach it by 2026-03-19 (10 days, today included)." in (
        progress.details()
    )
    late = goal_progress(goals, days, 40_000, today + dt.timedelta(days=30))
    assert "has passed" in late.details()
    assert goal_progress(Goals(), days, 10, today).status_text() == "Typed today 320 · streak 1"


def test_the_csv_has_a_row_a_day_with_every_figure() -> None:
    rows = [row(1, 0, "Hello there. ", time=T0), row(2, 13, "More ", origin="a", time=T0 + MIN)]
    text = daily_csv(by_day(tally_of(rows), UTC))
    lines = text.split("\r\n")
    assert lines[0] == ",".join(CSV_HEADER)
    assert lines[1] == "2026-03-02,2,1,0,0,13,5,0,0,0,0,1,1.0"
    assert lines[2:] == [""]
