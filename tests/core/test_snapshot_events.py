"""Named snapshots as chain events (``core.snapshots``, ``Project.take_snapshot``).

A snapshot is a fact event naming chapters and an earlier event; replaying the chain gives it
back, a strict replay rejects one that names a later state or a chapter never created, and the
text it names is the chapter's events replayed up to that event.
"""

from __future__ import annotations

import json

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.chain import ChainReplayer, restore_source
from coauthor.core.history import EditEvent
from coauthor.core.origin import Origin
from coauthor.core.project import Project, ProjectError
from coauthor.core.provenance import EMPTY_FRAGMENT, Fragment
from coauthor.core.snapshots import (
    SnapshotKind,
    SnapshotNotFound,
    find_snapshot,
    replay_text,
)


def _clock():
    now = [1_700_000_000_000]

    def tick() -> int:
        now[0] += 5_000
        return now[0]

    return tick


def _book() -> Project:
    project = Project(BookMeta(title="Snapshots"), clock=_clock())
    one = project.add_chapter("One")
    two = project.add_chapter("Two")
    project.insert(one, 0, "The cat sat on the mat.", Origin.HUMAN)
    project.insert(two, 0, "Rain.", Origin.PASTED)
    return project


def _replay(events: list[EditEvent]) -> ChainReplayer:
    wanted = [piece for e in events for piece in (restore_source(e) or ())]
    replayer = ChainReplayer(strict=True, wanted=wanted)
    for event in events:
        replayer.feed(event)
    return replayer


def test_a_snapshot_is_a_fact_event_that_replays_to_the_same_record() -> None:
    project = _book()
    one = project.chapters[0]
    chapter_snapshot = project.take_snapshot("  First draft ", [one])
    book_snapshot = project.take_snapshot("Whole", kind=SnapshotKind.DAILY)
    events = project.history.seal()
    payload = json.loads(events[-2].payload or "")
    assert payload == {
        "op": "snapshot",
        "name": "First draft",
        "chapters": [one.id],
        "as_of": chapter_snapshot.seq - 1,
        "kind": "manual",
        "book": False,
    }
    assert events[-2].chapter == one.id
    assert events[-1].chapter == 0
    replayer = _replay(events)
    assert replayer.issues == []
    assert replayer.finish().named_snapshots == [chapter_snapshot, book_snapshot]
    assert book_snapshot.chapters == (1, 2)
    assert book_snapshot.whole_book


def test_the_text_of_a_snapshot_is_the_chapter_replayed_up_to_its_event() -> None:
    project = _book()
    one = project.chapters[0]
    before = one.text.slice(0, len(one.text))
    snapshot = project.take_snapshot("Before", [one])
    project.replace(one, 4, 3, "dog", Origin.HUMAN)
    project.insert(one, 0, "Look: ", Origin.PASTED)
    events = project.history.seal()
    mine = [e for e in events if e.chapter == one.id and e.seq <= snapshot.as_of]
    assert replay_text(mine) == before
    assert replay_text(e for e in events if e.chapter == one.id) == one.text.slice(0, len(one.text))


def test_a_snapshot_may_name_an_earlier_state_but_not_a_later_one() -> None:
    project = _book()
    start = project.history.last_seq
    project.insert(project.chapters[0], 0, "Morning. ", Origin.HUMAN)
    daily = project.take_snapshot("Start of the day", kind=SnapshotKind.DAILY, as_of=start)
    assert daily.as_of == start
    with pytest.raises(ProjectError, match="not in the record"):
        project.take_snapshot("Future", as_of=project.history.last_seq + 5)
    with pytest.raises(ProjectError, match="needs a name"):
        project.take_snapshot("  ")
    stray = Project(BookMeta(title="Other")).add_chapter("Elsewhere")
    with pytest.raises(ProjectError, match="not in the book"):
        project.take_snapshot("Stray", [stray])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"as_of": 10_000}, "not earlier in the record"),
        ({"as_of": "3"}, "not earlier in the record"),
        ({"chapters": [99]}, "chapter 99, which the history never created"),
        ({"name": ""}, "without a name"),
        ({"kind": "forever"}, "unknown kind"),
    ],
)
def test_a_strict_replay_rejects_a_snapshot_that_claims_the_impossible(
    change: dict[str, object], message: str
) -> None:
    project = _book()
    project.take_snapshot("Draft")
    events = project.history.seal()
    payload = json.loads(events[-1].payload or "")
    payload.update(change)
    events[-1].payload = json.dumps(payload)
    replayer = ChainReplayer(strict=True, check_hashes=False)
    for event in events:
        replayer.feed(event)
    assert any(message in issue.message for issue in replayer.issues), replayer.issues


def test_a_restore_naming_a_snapshot_is_backed_once_its_text_is_held() -> None:
    project = _book()
    one = project.chapters[0]
    snapshot = project.take_snapshot("Before", [one])
    project.replace(one, 4, 3, "dog", Origin.AI, "g9")
    old = one.text.slice(0, 0)  # nothing held yet: the restore is refused
    piece = Fragment.single("cat", Origin.HUMAN)
    source = ((one.id, snapshot.as_of, 4, 3),)
    with pytest.raises(ProjectError, match="cannot be put back"):
        project.insert_fragment(one, 4, piece, source=source, delete=3)
    assert old == EMPTY_FRAGMENT
    events = project.history.seal()
    held = replay_text(e for e in events if e.chapter == one.id and e.seq <= snapshot.as_of)
    project.hold_replayed(one.id, snapshot.as_of, held)
    project.insert_fragment(one, 4, piece, source=source, delete=3)
    assert one.text.text == "The cat sat on the mat."
    assert list(one.text.runs()) == [(23, Origin.HUMAN, None)]
    assert _replay([*events, *project.history.seal()]).issues == []


def test_snapshots_are_found_by_name_latest_first_or_by_number() -> None:
    project = _book()
    first = project.take_snapshot("Draft")
    second = project.take_snapshot("Draft")
    other = project.take_snapshot("3")
    snapshots = project.named_snapshots
    assert find_snapshot(snapshots, "Draft") is second
    assert find_snapshot(snapshots, "1") is first
    assert find_snapshot(snapshots, "3") is other  # a name wins over a number
    with pytest.raises(SnapshotNotFound, match="3 snapshots"):
        find_snapshot(snapshots, "Final")
