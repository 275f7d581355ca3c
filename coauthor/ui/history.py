"""The History view: the writing history of a chapter (or the book), replayed.

A slider over the text events of the record, the text in origin colours as it was after the
chosen event, play and pause at a chosen speed, a step back and forward, the log of
generations and reviews to jump to, and Restore This Version: one ordinary edit in the editor
(undoable, recorded as a restore whose source is that past state, so the text keeps its
origins and ``verify`` checks it against the chain).

The timeline (``core.timeline``) is read from the project file by a worker job, on a
read-only connection of its own, when the view is opened or refreshed; nothing here runs on
the typing path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QKeySequence,
    QPaintEvent,
    QTextBlock,
    QTextCharFormat,
    QTextCursor,
    QTextLayout,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSplitter,
    QStyle,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.provenance import ProvenanceText
from coauthor.core.textpos import Utf16Map
from coauthor.core.timeline import Timeline, describe_event, restore_window
from coauthor.store import ProjectFile
from coauthor.ui.palette import OriginPalette
from coauthor.ui.worker import Job
from coauthor.ui.workspace import Workspace

__all__ = ["HistoryController", "HistoryText", "HistoryView"]

SPEEDS = (1, 5, 20, 100, 500)
"""Events per second while playing."""
_TICK_MS = 40  # the fastest the view is redrawn while playing
_DRAG_MS = 15  # slider moves are shown at most this often


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%d %b %Y %H:%M:%S")


_FORMATTED = 1
"""A block's user state once its origin colours are on its layout."""


class HistoryText(QPlainTextEdit):
    """A read-only text in origin colours: pending AI text is also wave-underlined (colour is
    never the only signal). The colours are character formats on the layouts of the blocks
    about to be painted, set once per version shown (a long chapter is not formatted whole
    for each step of the slider)."""

    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.text = ProvenanceText()
        self.generations: dict[str, Generation] = {}
        self.formats: dict[tuple[Origin, bool], QTextCharFormat] = {}
        self.set_palette(palette)

    def set_palette(self, palette: OriginPalette) -> None:
        self.formats.clear()
        for origin, colour in palette.backgrounds.items():
            for pending in (False, True):
                fmt = QTextCharFormat()
                if origin is not Origin.HUMAN:
                    fmt.setBackground(QColor(colour))
                if pending:
                    fmt.setBackground(palette.pending_background)
                    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                    fmt.setUnderlineColor(palette.pending_underline)
                self.formats[(origin, pending)] = fmt
        self._unformat(self.document().firstBlock(), None)
        self.viewport().update()

    def show_text(self, text: ProvenanceText, generations: dict[str, Generation]) -> None:
        """Show ``text``: only the stretch that differs from the text shown is replaced (a step
        or a short slide changes a few characters of a long chapter)."""
        shown = self.text
        self.text = text
        self.generations = generations
        window = restore_window(shown, text)
        if window is None:
            return
        if 2 * (window.current_end - window.start) > len(shown):
            self.setPlainText(text.text)  # most of it: Qt builds a new document faster
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(shown.to_utf16(window.start))
        cursor.setPosition(shown.to_utf16(window.current_end), QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text.text_in(window.start, window.past_end))
        document = self.document()
        self._unformat(
            document.findBlock(text.to_utf16(window.start)),
            document.findBlock(text.to_utf16(window.past_end)),
        )

    @staticmethod
    def _unformat(block: QTextBlock, last: QTextBlock | None) -> None:
        while block.isValid():
            block.setUserState(-1)
            if last is not None and block == last:
                break
            block = block.next()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        bottom = event.rect().bottom()
        block = self.firstVisibleBlock()
        offset = self.contentOffset()
        while block.isValid():
            if self.blockBoundingGeometry(block).translated(offset).top() > bottom:
                break
            if block.userState() != _FORMATTED:
                block.layout().setFormats(self._ranges(block))
                block.setUserState(_FORMATTED)
            block = block.next()
        super().paintEvent(event)

    def _ranges(self, block: QTextBlock) -> list[QTextLayout.FormatRange]:
        provenance = self.text
        text = block.text()
        unit = block.position()
        if not text or unit >= provenance.utf16_length():
            return []
        start = provenance.from_utf16(unit)
        units = None if text.isascii() else Utf16Map(text)
        if units is not None and units.is_identity:
            units = None
        end = min(len(provenance), start + len(text))  # ``text`` is in code points
        ranges = []
        offset = 0
        for length, origin, ref in provenance.runs_list(start, end):
            generation = self.generations.get(ref) if ref and origin is Origin.AI else None
            pending = generation is not None and generation.review_state is ReviewState.PENDING
            if pending or origin is not Origin.HUMAN:
                a, b = offset, offset + length
                if units is not None:
                    a, b = units.to_utf16(a), units.to_utf16(b)
                fmt_range = QTextLayout.FormatRange()
                fmt_range.start, fmt_range.length = a, b - a  # pyright: ignore[reportAttributeAccessIssue]
                fmt_range.format = self.formats[(origin, pending)]  # pyright: ignore[reportAttributeAccessIssue]
                ranges.append(fmt_range)
            offset += length
        return ranges


class HistoryView(QWidget):
    """The timeline's controls and the text at the chosen point; it only requests."""

    restore_requested = Signal(int)
    """Restore This Version at this position."""
    scope_requested = Signal(bool)
    """Show the whole book's history (True) or the chapter's (False)."""
    refresh_requested = Signal()

    def __init__(self, palette: OriginPalette, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyView")
        self.timeline: Timeline | None = None
        self.generations: dict[str, Generation] = {}
        self.titles: dict[int, str] = {}
        self.position = -1
        self.scope = QComboBox()
        self.scope.addItems(["This chapter", "Whole book"])
        self.scope.setAccessibleName("History of")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("historySlider")
        self.slider.setAccessibleName("Point in the writing history")
        self.slider.setPageStep(100)
        icon = self.style().standardIcon
        pixmaps = QStyle.StandardPixmap
        self.start_button = QPushButton(icon(pixmaps.SP_MediaSkipBackward), "")
        self.back_button = QPushButton(icon(pixmaps.SP_MediaSeekBackward), "")
        self.play_button = QPushButton(icon(pixmaps.SP_MediaPlay), "Play")
        self.play_button.setCheckable(True)
        self.forward_button = QPushButton(icon(pixmaps.SP_MediaSeekForward), "")
        self.end_button = QPushButton(icon(pixmaps.SP_MediaSkipForward), "")
        for button, tip in (
            (self.start_button, "The beginning"),
            (self.back_button, "One event back"),
            (self.forward_button, "One event forward"),
            (self.end_button, "The latest text (reads what was written since)"),
        ):
            button.setToolTip(tip)
            button.setAccessibleName(tip)
        self.speed = QComboBox()
        self.speed.setAccessibleName("Playing speed")
        for speed in SPEEDS:
            self.speed.addItem(f"{speed} events/s", speed)
        self.speed.setCurrentIndex(2)
        self.restore_button = QPushButton("Restore This Version")
        self.restore_button.setToolTip(
            "Make the chapter this text again, with its origins: one edit, Edit ▸ Undo takes it "
            "back"
        )
        self.status = QLabel()
        self.status.setObjectName("historyStatus")
        self.status.setWordWrap(True)
        self.viewer = HistoryText(palette)
        self.viewer.setObjectName("historyText")
        self.log = QListWidget()
        self.log.setObjectName("historyLog")
        self.log.setAccessibleName("Generations and reviews: choose one to go there")

        controls = QHBoxLayout()
        controls.addWidget(self.scope)
        for button in (
            self.start_button,
            self.back_button,
            self.play_button,
            self.forward_button,
            self.end_button,
        ):
            controls.addWidget(button)
        controls.addWidget(self.speed)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.restore_button)
        log_panel = QWidget()
        log_layout = QVBoxLayout(log_panel)
        log_layout.setContentsMargins(0, 0, 0, 0)
        log_layout.addWidget(QLabel("Generations and reviews"))
        log_layout.addWidget(self.log)
        split = QSplitter()
        split.addWidget(self.viewer)
        split.addWidget(log_panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

        self._player = QTimer(self)
        self._player.setInterval(_TICK_MS)
        self._player.timeout.connect(self._tick)
        self._played = 0.0
        self._pending_position: int | None = None
        self._drag = QTimer(self)
        self._drag.setSingleShot(True)
        self._drag.setInterval(_DRAG_MS)
        self._drag.timeout.connect(self._show_dragged)
        self.slider.valueChanged.connect(self._on_slider)
        self.start_button.clicked.connect(lambda: self.show_position(0))
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.forward_button.clicked.connect(lambda: self.step(+1))
        self.end_button.clicked.connect(self.refresh_requested)
        self.play_button.toggled.connect(self.set_playing)
        self.restore_button.clicked.connect(lambda: self.restore_requested.emit(self.position))
        self.scope.currentIndexChanged.connect(lambda i: self.scope_requested.emit(i == 1))
        self.log.itemActivated.connect(self._go_to_item)
        self.log.itemClicked.connect(self._go_to_item)
        self.set_busy("Open a project to see its history.")

    # -- what is shown ----------------------------------------------------------------------

    def set_busy(self, message: str) -> None:
        """Reading the history (or nothing to show): the controls wait."""
        self.set_playing(False)
        self._drag.stop()
        self._pending_position = None
        for widget in self._controls():
            widget.setEnabled(False)
        self.status.setText(message)

    def _controls(self) -> list[QWidget]:
        return [
            self.slider,
            self.start_button,
            self.back_button,
            self.play_button,
            self.forward_button,
            self.end_button,
            self.restore_button,
            self.scope,
            self.log,
        ]

    def set_book_scope(self, book: bool) -> None:
        blocked = self.scope.blockSignals(True)
        self.scope.setCurrentIndex(1 if book else 0)
        self.scope.blockSignals(blocked)

    def set_timeline(
        self,
        timeline: Timeline,
        generations: dict[str, Generation],
        titles: dict[int, str] | str,
        log: list[tuple[int, str]] | None = None,
    ) -> None:
        """Show ``timeline``; ``titles`` names its chapters (one title: the chapter's);
        ``log`` lists (position, line) of generations and reviews to go to."""
        self.timeline = timeline
        self.generations = generations
        only = timeline.chapter
        self.titles = {only: titles} if isinstance(titles, str) and only is not None else {}
        if isinstance(titles, dict):
            self.titles = titles
        for widget in self._controls():
            widget.setEnabled(True)
        blocked = self.slider.blockSignals(True)
        self.slider.setRange(0, len(timeline))
        self.slider.blockSignals(blocked)
        self.log.clear()
        for position, line in log or []:
            item = QListWidgetItem(line)
            item.setData(Qt.ItemDataRole.UserRole, position)
            item.setToolTip(line)
            self.log.addItem(item)
        self.position = -1

    def show_position(self, position: int) -> None:
        """The text after the first ``position`` events, in origin colours, the change marked."""
        timeline = self.timeline
        if timeline is None:
            return
        position = max(0, min(position, len(timeline)))
        self.position = position
        if self.slider.value() != position:
            blocked = self.slider.blockSignals(True)
            self.slider.setValue(position)
            self.slider.blockSignals(blocked)
        chapter = timeline.chapter_at(position)
        text = timeline.text_at(position) if chapter is not None else ProvenanceText()
        bar = self.viewer.verticalScrollBar()
        keep = bar.value()
        self.viewer.show_text(text, self.generations)
        bar.setValue(keep)
        event = timeline.event_at(position)
        if event is None:
            self.viewer.setExtraSelections([])
        else:
            # The change is overlined (a selection would hide its origin colour) and scrolled
            # into view; a deletion leaves the cursor where the text was.
            start = min(event.pos, len(text))
            end = min(start + len(event.inserted), len(text))
            change = QTextEdit.ExtraSelection()
            change.cursor = QTextCursor(self.viewer.document())  # pyright: ignore[reportAttributeAccessIssue]
            change.cursor.setPosition(text.to_utf16(start))
            change.cursor.setPosition(text.to_utf16(end), QTextCursor.MoveMode.KeepAnchor)
            change.format.setFontOverline(True)  # pyright: ignore[reportAttributeAccessIssue]
            self.viewer.setExtraSelections([change])
            cursor = QTextCursor(self.viewer.document())
            cursor.setPosition(text.to_utf16(end))
            self.viewer.setTextCursor(cursor)
            self.viewer.ensureCursorVisible()
        self.status.setText(self.describe(position))
        self.back_button.setEnabled(position > 0)
        self.forward_button.setEnabled(position < len(timeline))
        self.restore_button.setEnabled(chapter is not None)

    def describe(self, position: int) -> str:
        timeline = self.timeline
        if timeline is None:
            return ""
        total = len(timeline)
        event = timeline.event_at(position)
        if event is None:
            return f"Before the first of {total:,} events: the chapter is empty."
        title = self.titles.get(event.chapter, f"chapter {event.chapter}")
        return (
            f"Event {position:,} of {total:,} · {_when(event.time)} · “{title}”: "
            f"{describe_event(event)}"
        )

    def step(self, delta: int) -> None:
        self.show_position(max(0, self.position) + delta)

    def set_playing(self, playing: bool) -> None:
        if playing and self.timeline is not None:
            if self.position >= len(self.timeline):
                self.show_position(0)
            self._played = 0.0
            self._player.start()
        else:
            self._player.stop()
        if self.play_button.isChecked() != (playing and self._player.isActive()):
            blocked = self.play_button.blockSignals(True)
            self.play_button.setChecked(self._player.isActive())
            self.play_button.blockSignals(blocked)
        playing = self._player.isActive()
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(
            self.style().standardIcon(
                QStyle.StandardPixmap.SP_MediaPause
                if playing
                else QStyle.StandardPixmap.SP_MediaPlay
            )
        )

    @property
    def playing(self) -> bool:
        return self._player.isActive()

    def _tick(self) -> None:
        timeline = self.timeline
        if timeline is None:
            self.set_playing(False)
            return
        # Events due at this speed since the last tick (several per tick when fast).
        self._played += int(self.speed.currentData()) * _TICK_MS / 1000
        steps = int(self._played)
        if not steps:
            return
        self._played -= steps
        self.show_position(self.position + steps)
        if self.position >= len(timeline):
            self.set_playing(False)

    def _on_slider(self, value: int) -> None:
        self._pending_position = value
        if not self._drag.isActive():
            self._drag.start()

    def _show_dragged(self) -> None:
        if self._pending_position is not None:
            position, self._pending_position = self._pending_position, None
            self.show_position(position)

    def _go_to_item(self, item: QListWidgetItem) -> None:
        self.set_playing(False)
        self.show_position(int(item.data(Qt.ItemDataRole.UserRole)))


class HistoryController(QObject):
    """Reads the record into a timeline off the GUI thread, shows it in the History dock, and
    restores a version through the editor (one undoable edit)."""

    def __init__(self, workspace: Workspace, palette: OriginPalette) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.view = HistoryView(palette)
        self.dock = QDockWidget("History", workspace.window)
        self.dock.setObjectName("historyDock")
        self.dock.setWidget(self.view)
        self.dock.hide()
        self.action = QAction("&History…", self)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.action.setStatusTip("Replay the writing history of the chapter, event by event")
        self.action.triggered.connect(lambda _checked=False: self.open())
        self.job: Job | None = None
        self.timeline: Timeline | None = None
        self._source: tuple[str, int | None] | None = None  # (project path, chapter or None)
        self.view.restore_requested.connect(self.restore)
        self.view.scope_requested.connect(lambda book: self.open(book=book))
        self.view.refresh_requested.connect(lambda: self.refresh(then_latest=True))
        workspace.project_opened.connect(lambda _: self.forget())

    # -- reading the record -----------------------------------------------------------------

    def forget(self) -> None:
        """Another project: nothing of the last one's history stays."""
        self.stop()
        self.timeline = None
        self._source = None
        self.view.timeline = None
        self.view.viewer.show_text(ProvenanceText(), {})
        self.view.log.clear()
        self.view.set_busy("Choose View ▸ History to replay the writing history.")

    def stop(self) -> None:
        """End a reading job (the project closes, or the window)."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.job.wait()
        self.job = None

    def open(
        self, *, book: bool | None = None, go_to: Callable[[Timeline], int] | None = None
    ) -> None:
        """Show the dock with the history of the chapter on screen (or of the whole book),
        read up to the latest change, at the latest event (or where ``go_to`` says)."""
        ws = self.workspace
        session = ws.session
        if session is None:
            return
        if book is None:
            book = self._source is not None and self._source[1] is None and ws.chapter is None
        chapter = None if book or ws.chapter is None else ws.chapter.id
        if not book and chapter is None:
            book = True
        self.view.set_book_scope(book)
        self.dock.show()
        self.dock.raise_()
        source = (str(session.path.resolve()), chapter)
        if source != self._source:
            self.timeline = None
            self._source = source
        self.refresh(go_to=go_to or len)

    def refresh(
        self, *, then_latest: bool = False, go_to: Callable[[Timeline], int] | None = None
    ) -> None:
        """Read what the record holds since the last read (all of it the first time)."""
        ws = self.workspace
        session = ws.session
        if session is None or self._source is None:
            return
        if self.job is not None and self.job.running:
            return
        if then_latest and go_to is None:
            go_to = len  # the latest event
        keep = self.view.position
        session.flush()  # what is on screen is in the file the job reads
        timeline = self.timeline
        chapter = self._source[1]
        path = session.path
        self.view.set_busy(
            "Reading the writing history…" if timeline is None else "Reading the latest events…"
        )

        def work(_report: Callable[[object], None], _cancel: threading.Event) -> object:
            return _read(path, timeline, chapter)

        def done(result: object) -> None:
            self.job = None
            if not isinstance(result, Timeline):
                return
            self.timeline = result
            self._show(result, go_to(result) if go_to is not None else max(0, keep))

        def failed(message: str) -> None:
            self.job = None
            self.view.set_busy(f"The history could not be read: {message}")

        self.job = Job(work, self)
        self.job.finished.connect(done)
        self.job.failed.connect(failed)
        self.job.start()

    def _show(self, timeline: Timeline, position: int) -> None:
        project = self.workspace.project
        if project is None:
            return
        titles = {c.id: c.title for c in [*project.chapters, *project.removed_chapters]}
        self.view.set_timeline(timeline, project.generations, titles, self._log(timeline))
        self.view.show_position(position)

    def _log(self, timeline: Timeline) -> list[tuple[int, str]]:
        """Each generation's insertion and each review decision in this scope, in order."""
        project = self.workspace.project
        if project is None:
            return []
        lines: list[tuple[int, str]] = []
        for position, event in timeline.insertions():
            generation = project.generations.get(event.ref or "")
            model = f" ({generation.model})" if generation is not None and generation.model else ""
            lines.append(
                (position, f"{_when(event.time)} · generation {event.ref} inserted{model}")
            )
        for record in project.review_log:
            generation = project.generations.get(record.generation)
            chapter = generation.chapter_id if generation is not None else None
            if timeline.chapter is not None and chapter != timeline.chapter:
                continue
            if record.seq > timeline.last_seq:
                continue
            who = f" by {record.reviewer}" if record.reviewer else ""
            lines.append(
                (
                    timeline.position_of(record.seq),
                    (
                        f"{_when(record.time)} · generation {record.generation} "
                        f"{record.state.value}{who}"
                    ),
                )
            )
        lines.sort(key=lambda line: line[0])
        return lines

    # -- going to a generation --------------------------------------------------------------

    def show_generation(self, generation_id: str) -> None:
        """Open the history of the generation's chapter where its text was first inserted."""
        ws = self.workspace
        project = ws.project
        if project is None:
            return
        generation = project.generations.get(generation_id)
        chapter_id = generation.chapter_id if generation is not None else None
        chapter = next((c for c in project.chapters if c.id == chapter_id), None)
        if chapter is not None and chapter is not ws.chapter:
            ws.show_chapter(chapter)

        def at_insertion(timeline: Timeline) -> int:
            for position, event in timeline.insertions():
                if event.ref == generation_id:
                    return position
            ws.show_message(f"Generation {generation_id} was never inserted in this chapter.", 6000)
            return len(timeline)

        self.open(book=chapter is None, go_to=at_insertion)

    # -- restoring --------------------------------------------------------------------------

    def restore(self, position: int) -> bool:
        """Make the chapter the text of ``position`` again: one edit in the editor, undoable,
        recorded as a restore naming that state (so origins come back as they were)."""
        ws = self.workspace
        project, timeline = ws.project, self.timeline
        if project is None or timeline is None:
            return False
        chapter_id = timeline.chapter_at(position)
        chapter = next((c for c in project.chapters if c.id == chapter_id), None)
        if chapter is None:
            ws.show_message("That chapter is no longer in the book: restore it first.", 8000)
            return False
        past = timeline.text_at(position, chapter.id)
        window = restore_window(chapter.text, past)
        if window is None:
            ws.show_message("The chapter already reads exactly like this version.", 6000)
            return False
        if chapter is not ws.chapter:
            ws.show_chapter(chapter)
        editor = ws.editor
        if editor.chapter is not chapter or editor.isReadOnly():
            return False
        as_of = timeline.seq_at(position)
        fragment = past.slice(window.start, window.past_end)
        source: tuple[tuple[int, int, int, int], ...] = ()
        if fragment.text:
            project.hold_replayed(chapter.id, as_of, past.slice(0, len(past)))
            source = ((chapter.id, as_of, window.start, len(fragment.text)),)
        event = timeline.event_at(position)
        label = f"Restore Version of {_when(event.time)}" if event else "Restore Empty Chapter"
        stack = ws.chapter_stacks.get(chapter.id)
        if stack is not None:
            stack.beginMacro(label)
        try:
            editor.select_range(window.start, window.current_end)
            editor.insert_fragment(fragment, source)
        finally:
            if stack is not None:
                stack.endMacro()
        ws.show_message(f"{label}: done. Edit ▸ Undo takes it back.", 8000)
        self.refresh()  # the restore is an event of the history too
        return True


def _read(path: Path, timeline: Timeline | None, chapter: int | None) -> Timeline:
    """The timeline with every event the file holds (from the start, or after ``timeline``'s
    last), read on a read-only connection of its own."""
    project_file = ProjectFile.open(path, readonly=True)
    try:
        if timeline is None:
            return Timeline.build(project_file.events(chapter), chapter=chapter)
        timeline.extend(project_file.events(chapter, after=timeline.last_seq))
        return timeline
    finally:
        project_file.close()
