"""Present mode in the real window, offscreen: the audience view, the presenter's private
pane, review while streaming, screened prompts, and the session in the history.

Generations come from the scripted loopback chat server (``tests/ai/chat_server.py``), which
streams its reply in pieces with a pause between them, so the tests look at the audience view
while the text is still arriving. Text pending review must never be in the audience view.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from chat_server import DEFAULT_REPLY, Behaviour, ChatServer
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from coauthor.ai.service import ProviderConfig, ProviderKind
from coauthor.core.book import Chapter
from coauthor.core.generation import ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.store.projectfile import ProjectFile
from coauthor.store.verify import verify
from coauthor.ui import present
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.present import choose_screens
from coauthor.ui.presentviews import (
    BANNER_TEXT,
    WITHHELD_TEXT,
    AudienceView,
    PresenterPane,
    audience_pieces,
)

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 10_000
NOTICE = "This application has not yet been approved for launch"
FLAGGED = "Nobody would miss you."


@pytest.fixture
def demo_window(
    window: MainWindow, chat_server: ChatServer, no_keyring: None
) -> Iterator[MainWindow]:
    """The sample book, a named presenter, and generations from the loopback server."""
    window.settings.reviewer_name = "Ann Presenter"
    window.ai.save_config(
        ProviderConfig(
            kind=ProviderKind.COMPATIBLE, base_url=chat_server.url, model="test-model", timeout=5
        )
    )
    yield window
    job = window.ai.job
    if job is not None and job.running:
        job.cancel()
        job.wait(30_000)
    window.present.leave()


def project_of(window: MainWindow) -> Project:
    project = window.project
    assert project is not None
    return project


def start_presenting(
    window: MainWindow, qtbot, chapter: Chapter
) -> tuple[AudienceView, PresenterPane]:
    window.show_chapter(chapter)
    window.present.present_action.trigger()
    assert window.present.presenting
    audience, pane = window.present.audience, window.present.pane
    assert audience is not None
    assert pane is not None
    qtbot.waitExposed(audience)
    return audience, pane


def audience_window(window: MainWindow) -> QWidget:
    top = window.present.audience_window
    assert top is not None
    return top


def send(qtbot, pane: PresenterPane, prompt: str) -> None:
    pane.prompt.clear()
    qtbot.keyClicks(pane.prompt, prompt)
    qtbot.mouseClick(pane.send_button, LEFT)


def demo_actions(project: Project) -> list[str]:
    return [event.action for event in project.demos]


def test_present_is_in_the_view_menu_and_needs_a_project(window: MainWindow) -> None:
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert isinstance(view, QMenu)
    assert window.present.present_action in view.actions()
    assert window.present.present_action.shortcut().toString() == "F5"
    assert window.present.present_action.isEnabled()
    window.close_project_interactive()
    assert not window.present.present_action.isEnabled()


def test_a_generation_streams_privately_and_reaches_the_audience_only_once_approved(
    demo_window: MainWindow, chat_server: ChatServer, qtbot, screenshot_dir: Path
) -> None:
    window = demo_window
    project = project_of(window)
    project.set_meta(replace(project.meta, present_notice=NOTICE))
    storm = project.chapters[2]  # holds g2, still pending review
    pending = storm.text.text_in(*_ai_span(storm, "g2"))
    audience, pane = start_presenting(window, qtbot, storm)

    # The banner: both lines, on top, and it stays however it is asked to go.
    banner = audience.banner
    assert BANNER_TEXT in banner.text()
    assert NOTICE in banner.text()
    banner.hide()
    banner.setVisible(False)
    assert banner.isVisible()
    assert banner.y() == 0
    assert banner.height() > 20
    image = audience.grab().toImage()
    assert QColor(image.pixel(5, 5)) == QColor("#1B2A3A")
    # The text already pending review is withheld: a placeholder, never its words.
    assert pending not in audience.text()
    assert WITHHELD_TEXT in audience.text()
    assert storm.text.text[:40] in audience.text()
    assert project.demos[-1].action == "start"
    assert project.demos[-1].by == "Ann Presenter"
    assert project.demos[-1].chapter == storm.id

    chat_server.script(Behaviour("ok", chunk_delay=0.4))
    before = audience.text()
    send(qtbot, pane, "A lighthouse keeper's cat")
    qtbot.waitUntil(lambda: pane.preview.toPlainText() != "", timeout=WAIT_MS)
    job = window.ai.job
    assert job is not None
    assert job.running  # mid-stream: the presenter reads it, the audience does not
    streamed = pane.preview.toPlainText()
    assert streamed
    assert streamed in DEFAULT_REPLY
    assert not pane.approve_button.isEnabled()
    QApplication.processEvents()
    assert audience.text() == before
    assert streamed not in audience.text()
    assert chat_server.completions[-1].user_message.startswith("A lighthouse keeper's cat")
    audience_window(window).grab().save(str(screenshot_dir / "present_streaming.png"))

    qtbot.waitUntil(pane.approve_button.isEnabled, timeout=WAIT_MS)
    gid = window.present.current
    assert gid is not None
    record = project.generations[gid]
    assert record.output == DEFAULT_REPLY
    assert record.review_state is ReviewState.PENDING
    assert DEFAULT_REPLY not in storm.text.text  # not in the book before approval
    window.present.render()
    assert DEFAULT_REPLY not in audience.text()

    qtbot.mouseClick(pane.approve_button, LEFT)
    assert record.review_state is ReviewState.APPROVED
    assert record.reviewer == "Ann Presenter"
    review = project.review_log[-1]
    assert review.generation == gid
    assert review.shown_ms
    assert review.shown_ms > 0
    assert storm.text.text.endswith(DEFAULT_REPLY)
    start = len(storm.text) - len(DEFAULT_REPLY)
    assert {storm.text.origin_at(i) for i in range(start, len(storm.text))} == {(Origin.AI, gid)}
    assert audience.text().endswith(DEFAULT_REPLY)
    assert pending not in audience.text()
    assert banner.isVisible()
    assert demo_actions(project)[-1] == "shown"
    assert project.demos[-1].generation == gid
    audience_window(window).grab().save(str(screenshot_dir / "present_approved.png"))
    assert (screenshot_dir / "present_approved.png").stat().st_size > 0

    # Esc ends the presentation and records it.
    present_window = audience_window(window)
    present_window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is present_window, timeout=2000)
    QTest.keyClick(present_window, Qt.Key.Key_Escape)
    assert not window.present.presenting
    assert demo_actions(project)[-3:] == ["start", "shown", "end"]
    [session] = project.demo_sessions()
    assert session.shown == (gid,)
    assert session.ended is not None
    assert "Presentation ended: 1 generation shown" in window.statusBar().currentMessage()


def _ai_span(chapter: Chapter, gid: str) -> tuple[int, int]:
    pos = 0
    for length, origin, ref in chapter.text.runs():
        if origin is Origin.AI and ref == gid:
            return pos, pos + length
        pos += length
    raise AssertionError(f"{gid} has no text in {chapter.title}")


def test_a_flagged_prompt_is_sent_only_with_a_reason_and_a_discarded_one_is_never_shown(
    demo_window: MainWindow, chat_server: ChatServer, qtbot, screenshot_dir: Path
) -> None:
    window = demo_window
    project = project_of(window)
    keeper = project.chapters[0]
    audience, pane = start_presenting(window, qtbot, keeper)
    before = audience.text()

    send(qtbot, pane, FLAGGED)
    assert chat_server.completions == []  # screened before anything was sent
    assert pane.flags.isVisible()
    assert "Harassment" in pane.flags.text()
    assert not pane.send_anyway_button.isEnabled()
    audience_window(window).grab().save(str(screenshot_dir / "present_flagged.png"))

    # Editing the prompt withdraws the flags: Send Anyway only ever sends what was screened.
    qtbot.keyClicks(pane.prompt, " ")
    assert not pane.flags.isVisible()
    send(qtbot, pane, FLAGGED)
    qtbot.keyClicks(pane.reason, "The audience asked for an example the screening catches")
    assert pane.send_anyway_button.isEnabled()
    chat_server.script(Behaviour("ok", text="A quiet reply."))
    qtbot.mouseClick(pane.send_anyway_button, LEFT)
    override = project.demos[-1]
    assert override.action == "override"
    assert override.categories == ("harassment",)
    assert override.reason == "The audience asked for an example the screening catches"
    assert len(override.prompt_hash) == 16
    qtbot.waitUntil(pane.discard_button.isEnabled, timeout=WAIT_MS)
    assert chat_server.completions[-1].user_message.startswith(FLAGGED)
    gid = window.present.current
    assert gid is not None

    qtbot.mouseClick(pane.discard_button, LEFT)
    assert project.generations[gid].review_state is ReviewState.REJECTED
    assert "A quiet reply." not in keeper.text.text
    window.present.render()
    assert audience.text() == before
    assert "shown" not in demo_actions(project)

    # Closing the presentation's window ends the session as Esc does.
    audience_window(window).close()
    assert not window.present.presenting
    assert demo_actions(project)[-1] == "end"
    [session] = project.demo_sessions()
    assert (session.shown, session.overrides) == ((), 1)


def test_closing_the_project_ends_the_presentation_and_the_file_verifies(
    demo_window: MainWindow, qtbot, sample_project: Path
) -> None:
    window = demo_window
    start_presenting(window, qtbot, project_of(window).chapters[1])
    assert window.close_project_interactive()
    assert not window.present.presenting
    project_file = ProjectFile.open(sample_project, readonly=True)
    try:
        result = verify(project_file)
        assert result.ok, result.message
        assert result.project is not None
        [session] = result.project.demo_sessions()
        assert session.by == "Ann Presenter"
        assert session.ended is not None
    finally:
        project_file.close()


def test_audience_pieces_mark_approved_text_and_withhold_the_rest(window: MainWindow) -> None:
    project = project_of(window)
    keeper, storm = project.chapters[0], project.chapters[2]
    kinds = [piece.kind.value for piece in audience_pieces(project, keeper)]
    assert "ai" in kinds
    assert "withheld" not in kinds
    pieces = audience_pieces(project, storm)
    assert [p.text for p in pieces if p.kind.value == "withheld"] == [WITHHELD_TEXT]
    assert "".join(p.text for p in pieces if p.kind.value != "withheld") == storm.text.text.replace(
        storm.text.text_in(*_ai_span(storm, "g2")), ""
    )


def test_the_presenter_gets_a_screen_of_their_own_when_there_are_two() -> None:
    assert choose_screens(["laptop"], "laptop") == ("laptop", None)
    assert choose_screens(["laptop", "projector"], "laptop") == ("projector", "laptop")
    assert choose_screens(["projector", "laptop"], "laptop") == ("projector", "laptop")
    assert choose_screens(["a", "b"], None) == ("b", "a")


def test_with_a_second_screen_the_pane_is_a_window_of_its_own(
    demo_window: MainWindow, qtbot, monkeypatch: pytest.MonkeyPatch, screenshot_dir: Path
) -> None:
    # The offscreen platform has one screen: pretend the main window's is a second one.
    monkeypatch.setattr(present, "choose_screens", lambda screens, _main: (screens[0], screens[0]))
    window = demo_window
    audience, pane = start_presenting(window, qtbot, project_of(window).chapters[0])
    audience_window = window.present.audience_window
    presenter_window = window.present.presenter_window
    assert audience_window is not None
    assert presenter_window is not None
    assert pane.window() is presenter_window
    assert audience.window() is audience_window
    assert not audience_window.isAncestorOf(pane)
    assert audience_window.isFullScreen()
    qtbot.waitExposed(presenter_window)
    presenter_window.grab().save(str(screenshot_dir / "present_presenter_window.png"))
    qtbot.mouseClick(pane.end_button, LEFT)
    assert not window.present.presenting
    assert demo_actions(project_of(window))[-2:] == ["start", "end"]
