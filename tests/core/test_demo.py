"""Live demonstrations (Present mode) in the chain: start, generations shown, prompts sent
despite screening, end; replayed from the events alone and checked by the strict replayer."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from coauthor.core.book import BookMeta
from coauthor.core.chain import ChainReplayer
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.history import EditEvent
from coauthor.core.origin import Origin
from coauthor.core.project import Project, ProjectError, demo_sessions


def _clock():
    now = [1_700_000_000_000]

    def tick() -> int:
        now[0] += 1000
        return now[0]

    return tick


def _replay(events: list[EditEvent]) -> ChainReplayer:
    replayer = ChainReplayer(strict=True)
    for event in events:
        replayer.feed(event)
    return replayer


def _book_with_generations() -> Project:
    project = Project(BookMeta(title="T", author="Ann"), clock=_clock())
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "Once.", Origin.HUMAN)
    for gid, text in (("g1", " Approved."), ("g2", " Pending.")):
        project.add_generation(Generation(gid, "embedded", "m", chapter_id=chapter.id, output=text))
        project.insert(chapter, len(chapter.text), text, Origin.AI, gid)
    project.review("g1", ReviewState.APPROVED, "Ann", shown_ms=900)
    return project


def test_a_demonstration_is_recorded_and_replays_to_the_same_sessions() -> None:
    project = _book_with_generations()
    chapter = project.chapters[0]
    start = project.record_demo("start", by="Ann", chapter=chapter)
    assert project.open_demo == start.seq
    override = project.record_demo(
        "override",
        by="Ann",
        prompt_hash="0123456789abcdef",
        categories=("violence",),
        reason="  a request from the audience, read first  ",
    )
    shown = project.record_demo("shown", by="Ann", generation="g1")
    end = project.record_demo("end", by="Ann")
    assert project.open_demo is None
    assert override.reason == "a request from the audience, read first"
    assert (shown.session, end.session, shown.chapter) == (start.seq, start.seq, chapter.id)

    [session] = project.demo_sessions()
    assert session.start == start.seq
    assert (session.started, session.ended) == (start.time, end.time)
    assert (session.by, session.chapter) == ("Ann", chapter.id)
    assert session.shown == ("g1",)
    assert session.overrides == 1

    events = project.history.seal()
    payloads = [json.loads(e.payload or "{}") for e in events]
    demo = [p for p in payloads if p.get("op") == "demo"]
    assert [p["action"] for p in demo] == ["start", "override", "shown", "end"]
    assert demo[1]["categories"] == ["violence"]
    assert all(p["session"] == start.seq for p in demo[1:])

    replayer = _replay(events)
    assert replayer.issues == []
    chained = replayer.finish()
    assert chained.demos == project.demos
    assert chained.demo_sessions() == project.demo_sessions()


def test_pending_text_is_never_recorded_as_shown_and_every_override_has_a_reason() -> None:
    project = _book_with_generations()
    with pytest.raises(ProjectError, match="no presentation is running"):
        project.record_demo("shown", generation="g1")
    project.record_demo("start", chapter=project.chapters[0])
    with pytest.raises(ProjectError, match="never shown to an audience"):
        project.record_demo("shown", generation="g2")
    with pytest.raises(ProjectError, match="no generation"):
        project.record_demo("shown", generation="g9")
    with pytest.raises(ProjectError, match="needs a reason"):
        project.record_demo("override", prompt_hash="ab", reason="   ")
    with pytest.raises(ProjectError, match="unknown demonstration event"):
        project.record_demo("pause")
    project.record_demo("end")
    with pytest.raises(ProjectError, match="no presentation is running"):
        project.record_demo("end")
    assert [e.action for e in project.demos] == ["start", "end"]


def test_a_session_the_app_never_ended_stays_open_until_the_next_start() -> None:
    project = _book_with_generations()
    first = project.record_demo("start")
    second = project.record_demo("start")
    project.record_demo("shown", generation="g1")
    project.record_demo("end")
    sessions = project.demo_sessions()
    assert [(s.start, s.ended is None, s.shown) for s in sessions] == [
        (first.seq, True, ()),
        (second.seq, False, ("g1",)),
    ]
    assert _replay(project.history.seal()).issues == []


def _forge(events: list[EditEvent], seq: int, **changes: object) -> list[EditEvent]:
    """The events with one demo event's payload changed (the chain's hashes left as they were:
    the replayer checks the facts, the hash check is another test's)."""
    out = []
    for event in events:
        if event.seq == seq:
            payload = json.loads(event.payload or "{}")
            payload.update(changes)
            event = replace(event, payload=json.dumps(payload, sort_keys=True))
        out.append(event)
    return out


def test_the_strict_replayer_finds_a_forged_presentation() -> None:
    project = _book_with_generations()
    start = project.record_demo("start")
    shown = project.record_demo("shown", generation="g1")
    override = project.record_demo("override", prompt_hash="ab", reason="asked for it")
    end = project.record_demo("end")
    events = project.history.seal()

    def issues(forged: list[EditEvent]) -> str:
        return " | ".join(issue.message for issue in _replay(forged).issues)

    assert "never shown to an audience" in issues(_forge(events, shown.seq, generation="g2"))
    assert "needs a reason" in issues(_forge(events, override.seq, reason=""))
    assert "names presentation" in issues(_forge(events, end.seq, session=start.seq - 1))
    assert "no presentation is running" in issues(_forge(events, start.seq, action="end"))
    assert "unknown demonstration event" in issues(_forge(events, end.seq, action="pause"))


def test_the_banner_notice_is_a_book_detail_in_the_chain() -> None:
    project = Project(BookMeta(title="T", author="Ann"), clock=_clock())
    notice = "This application has not yet been approved for launch"
    project.set_meta(replace(project.meta, present_notice=notice))
    chained = _replay(project.history.seal()).finish()
    assert chained.meta.present_notice == notice
    assert BookMeta.from_dict({"title": "Old file"}).present_notice == ""


def test_demo_sessions_ignore_events_of_a_session_never_started() -> None:
    project = _book_with_generations()
    project.record_demo("start")
    project.record_demo("end")
    orphan = replace(project.demos[-1], session=999)
    assert [s.ended is not None for s in demo_sessions([*project.demos, orphan])] == [True]
