"""View ▸ Statistics and Book ▸ Writing Goals on a real window: the words typed today appear
by origin, the chart and table show them, the CSV export holds them, and the goal figure in
the status bar follows the typing after a pause."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu

from coauthor.core.daily import CSV_HEADER, ORIGIN_ORDER, Goals, Tally, event_row
from coauthor.core.origin import Origin
from coauthor.store import ProjectFile
from coauthor.store.activity import STATISTICS_KEY, stored_tally
from coauthor.store.verify import verify
from coauthor.ui.goals import GoalsDialog
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.statsview import DEFINITIONS, StatisticsDialog


def _menu_texts(window: MainWindow, title: str) -> list[str]:
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == title:
            menu = action.menu()
            assert isinstance(menu, QMenu)
            return [a.text().replace("&", "") for a in menu.actions()]
    raise AssertionError(f"no {title} menu")


def _type(window: MainWindow, text: str, *, flush: bool = True) -> None:
    editor = window.editor
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    QTest.keyClicks(editor, text)
    assert window.session is not None
    if flush:
        window.session.flush()


def _summarised(window: MainWindow, qtbot) -> None:
    qtbot.waitUntil(lambda: window.statistics.tally is not None, timeout=10_000)


def test_the_menus_offer_statistics_and_goals(window: MainWindow) -> None:
    assert "Statistics…" in _menu_texts(window, "View")
    assert "Writing Goals…" in _menu_texts(window, "Book")
    assert window.statistics.statistics_action.isEnabled()


def test_statistics_show_todays_typing_by_origin_and_export_it(
    window: MainWindow, qtbot, screenshot_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    _summarised(window, qtbot)
    _type(window, " The rain came at dusk, and nobody minded")
    window.statistics.statistics_action.trigger()
    dialog = window.statistics.dialog
    assert isinstance(dialog, StatisticsDialog)
    qtbot.waitExposed(dialog)
    today = dt.date.today()
    days = window.statistics.days()
    (day,) = [d for d in days if d.date == today]
    # The sample book was built today from imported, typed and generated text; the words just
    # typed add to what it typed.
    assert day.words[Origin.HUMAN] >= 8
    assert "words typed" in dialog.summary.text()
    assert f"<b>{day.words[Origin.HUMAN]:,}</b> words typed" in dialog.summary.text()
    model = dialog.model
    assert model.rowCount() == len(days)
    assert model.cell(0, 0) == today.isoformat()
    assert model.cell(0, 1) == f"{day.words[Origin.HUMAN]:,}"
    assert dialog.definitions.text() == DEFINITIONS
    assert "cannot prove who sat at the keyboard" in DEFINITIONS
    # The chart's last bar is today's, stacked from the shown origins.
    date, words = dialog.chart.columns()[-1]
    assert date == today
    assert words[Origin.HUMAN] == day.words[Origin.HUMAN]
    assert Origin.IMPORTED not in words
    dialog.show_imported.setChecked(True)
    assert dialog.chart.columns()[-1][1][Origin.IMPORTED] == day.words[Origin.IMPORTED]
    dialog.grab().save(str(screenshot_dir / "statistics.png"))

    target = tmp_path / "stats.csv"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    dialog.export_button.click()
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert tuple(rows[0]) == CSV_HEADER
    last = rows[-1]
    assert last[0] == today.isoformat()
    assert [int(n) for n in last[1:5]] == [day.words[o] for o in ORIGIN_ORDER]
    assert int(last[9]) == day.deleted
    dialog.close()


def test_goals_show_in_the_status_bar_and_follow_the_typing(
    window: MainWindow, qtbot, screenshot_dir: Path, monkeypatch
) -> None:
    _summarised(window, qtbot)
    deadline = dt.date.today() + dt.timedelta(days=29)

    def accept(dialog: GoalsDialog) -> QDialog.DialogCode:
        dialog.daily.setValue(500)
        dialog.book.setValue(100_000)
        dialog.has_deadline.setChecked(True)
        dialog.deadline.setDate(QDate(deadline.year, deadline.month, deadline.day))
        dialog.grab().save(str(screenshot_dir / "goals.png"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(GoalsDialog, "exec", accept)
    window.statistics.goals_action.trigger()
    session = window.session
    assert session is not None
    assert window.settings.goals(session.path) == Goals(500, 100_000, deadline)
    label = window.statistics.status_label
    before = _typed_today(label.text())
    assert label.text().startswith(f"Typed today {before:,}/500 · book ")
    assert "(30 days, today included)" in label.toolTip()

    tally = window.statistics.tally
    assert tally is not None
    seq = tally.seq
    _type(window, " Three more words", flush=False)
    # Nothing is counted on the keystroke: the figure moves after the pause and the autosave.
    assert (tally.seq, _typed_today(label.text())) == (seq, before)
    qtbot.waitUntil(lambda: _typed_today(label.text()) == before + 3, timeout=10_000)
    window.grab().save(str(screenshot_dir / "goals-status-bar.png"))


def test_goals_are_kept_per_book_outside_the_file(window: MainWindow, tmp_path: Path) -> None:
    settings = window.settings
    one, two = tmp_path / "one.coauthor", tmp_path / "two.coauthor"
    settings.set_goals(one, Goals(750, 0, None))
    assert settings.goals(one) == Goals(750, 0, None)
    assert settings.goals(two) == Goals()


def _typed_today(text: str) -> int:
    assert text.startswith("Typed today "), text
    return int(text.split()[2].partition("/")[0].replace(",", ""))


def test_a_book_from_an_older_coauthor_keeps_its_summary_from_then_on(
    open_window, sample_project: Path, close_window, qtbot
) -> None:
    """A file without the statistics' summary (an older Coauthor wrote it) is summarised
    from every event once; the file keeps that summary, so the next first summary is quick."""
    conn = sqlite3.connect(sample_project)
    conn.execute("DELETE FROM meta WHERE key = ?", (STATISTICS_KEY,))
    conn.commit()
    conn.close()
    window = open_window(sample_project)
    _summarised(window, qtbot)
    _type(window, " Words typed after the summary")
    close_window(window)
    conn = sqlite3.connect(sample_project)
    try:
        kept = stored_tally(conn)
        assert kept is not None
        assert kept.seq == conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    finally:
        conn.close()
    reread = ProjectFile.open(sample_project, readonly=True)
    try:
        everything = Tally()
        everything.feed(event_row(e) for e in reread.events())
        assert kept.same_figures(everything)
        assert verify(reread).ok
    finally:
        reread.close()
