"""The Help menu: About Coauthor and the guide, local pages that fetch nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMenu

import coauthor
from coauthor.ui.help import HelpPage
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.palette import LABELS, PENDING_LABEL


def help_menu(window: MainWindow) -> QMenu:
    [menu] = [
        a.menu()
        for a in window.menuBar().actions()
        if a.text() == "&Help" and isinstance(a.menu(), QMenu)
    ]
    assert isinstance(menu, QMenu)
    return menu


def trigger(window: MainWindow, text: str) -> HelpPage:
    [action] = [a for a in help_menu(window).actions() if a.text() == text]
    action.trigger()
    page = window.help.page
    assert page is not None
    assert page.isVisible()
    return page


def test_help_is_the_last_menu_with_the_guide_and_about(window: MainWindow) -> None:
    menus = [a for a in window.menuBar().actions() if isinstance(a.menu(), QMenu)]
    assert menus[-1].text() == "&Help"
    assert [a.text() for a in help_menu(window).actions()] == [
        "Coauthor &Guide",
        "&About Coauthor",
    ]


def test_about_names_the_version_and_the_licences_of_what_ships(
    window: MainWindow, screenshot_dir: Path
) -> None:
    page = trigger(window, "&About Coauthor")
    assert page.windowTitle() == "About Coauthor"
    text = page.browser.toPlainText()
    assert f"Coauthor {coauthor.__version__}" in text
    assert "GPL-3.0-or-later" in text
    assert "SmolLM2-135M-Instruct" in text
    assert "Apache License 2.0" in text  # the model
    assert "SIL Open Font License 1.1" in text  # the print font
    assert "CC0" in text  # the sample book's text
    assert "CC BY-SA 4.0" in text  # the CoAuthor sessions (data/README.md)
    assert not page.browser.openLinks()
    assert not page.browser.openExternalLinks()
    page.grab().save(str(screenshot_dir / "help_about.png"))


def test_the_guide_explains_the_colours_the_review_gate_and_the_foreword(
    window: MainWindow, screenshot_dir: Path
) -> None:
    page = trigger(window, "Coauthor &Guide")
    text = page.browser.toPlainText()
    for heading in ("The colours", "The review gate", "The foreword"):
        assert heading in text
    for label in [*LABELS.values(), PENDING_LABEL]:  # the colours, from the palette in use
        assert label in text
    assert "<!-- colours -->" not in page.browser.toHtml()
    assert window.origin_palette.swatch(next(iter(LABELS))).name() in page.browser.toHtml()
    assert "Approve" in text
    assert "Book ▸ Foreword…" in text
    page.grab().save(str(screenshot_dir / "help_guide.png"))
    # One help window at a time.
    again = trigger(window, "&About Coauthor")
    assert again is not page
    assert not page.isVisible()
