"""Focus mode (View ▸ Focus Mode): full screen, the text in a centred column, typewriter
scrolling, and everything else hidden until the mouse goes to an edge of the screen.

The column is the editor's viewport narrowed by equal margins on both sides, recomputed when
the editor is resized or the width changes (View ▸ Wider Column / Narrower Column, remembered
in the settings in characters of the editor's font). Typewriter scrolling keeps the cursor's
line at the vertical centre: ``QPlainTextEdit.centerCursor`` on every cursor move, with
``centerOnScroll`` so the last lines can come to the centre too. Nothing is connected while
focus mode is off, so typing outside it costs exactly what it did; in it, a keystroke costs one
``centerCursor``.

The menu bar, the status bar, the docks, the toolbars and the overview strip are hidden; a timer
looks where the mouse is a few times a second (rather than a filter on every mouse event) and
shows what belongs to the edge it is at: the top edge the menu bar and the top toolbars and
docks, the bottom edge the status bar and the bottom docks, the left and right edges the docks
there that were open before. Esc or the same command leaves, and the window comes back as it
was.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCursor, QFontMetricsF, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QPlainTextEdit,
    QToolBar,
    QWidget,
)

from coauthor.ui.settings import MAX_FOCUS_WIDTH, MIN_FOCUS_WIDTH, AppSettings

logger = logging.getLogger(__name__)

__all__ = ["EDGE_PX", "FocusMode", "WIDTH_STEP"]

EDGE_PX = 6
"""How close to an edge of the window the mouse must come to show what is hidden there."""
_SLACK_PX = 24
"""How far the mouse may move off what an edge showed before it is hidden again."""
_POLL_MS = 120
WIDTH_STEP = 4
"""Characters a column gets wider or narrower per step."""

_TOP, _BOTTOM, _LEFT, _RIGHT = "top", "bottom", "left", "right"
_DOCK_EDGES = {
    Qt.DockWidgetArea.TopDockWidgetArea: _TOP,
    Qt.DockWidgetArea.BottomDockWidgetArea: _BOTTOM,
    Qt.DockWidgetArea.LeftDockWidgetArea: _LEFT,
    Qt.DockWidgetArea.RightDockWidgetArea: _RIGHT,
}


class FocusMode(QObject):
    """Enters and leaves focus mode for one window and its editor."""

    active_changed = Signal(bool)

    def __init__(
        self,
        window: QMainWindow,
        editor: QPlainTextEdit,
        settings: AppSettings,
        extras: list[QWidget] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.editor = editor
        self.settings = settings
        self.extras = list(extras or [])
        """Widgets beside the editor hidden too (the overview strip), shown again on leaving."""
        self.action = QAction("&Focus Mode", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.action.setStatusTip(
            "Full screen, the text in a column, the line you write kept in the middle; move the "
            "mouse to an edge for the menus and panels. Esc leaves."
        )
        self.action.toggled.connect(self._on_toggled)
        self.wider_action = QAction("&Wider Column", window)
        self.wider_action.setShortcut(QKeySequence("Ctrl+Alt+Right"))
        self.wider_action.triggered.connect(lambda: self.change_width(+WIDTH_STEP))
        self.narrower_action = QAction("&Narrower Column", window)
        self.narrower_action.setShortcut(QKeySequence("Ctrl+Alt+Left"))
        self.narrower_action.triggered.connect(lambda: self.change_width(-WIDTH_STEP))
        for act in (self.wider_action, self.narrower_action):
            act.setEnabled(False)
            window.addAction(act)  # their keys work while the menu bar is hidden
        window.addAction(self.action)
        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), window)
        self._escape.setContext(Qt.ShortcutContext.WindowShortcut)
        self._escape.setEnabled(False)
        self._escape.activated.connect(self.leave)
        self._poll = QTimer(self)
        self._poll.setInterval(_POLL_MS)
        self._poll.timeout.connect(self._follow_mouse)
        self._active = False
        # What leaving puts back.
        self._window_state = Qt.WindowState.WindowNoState
        self._dock_state = b""
        self._bars: dict[QWidget, bool] = {}
        self._extras_visible: dict[QWidget, bool] = {}
        self._center_on_scroll = False
        # What each edge shows while the mouse is there: the widgets hidden on entering.
        self._edges: dict[str, list[QWidget]] = {_TOP: [], _BOTTOM: [], _LEFT: [], _RIGHT: []}
        self._shown: set[str] = set()
        self._in_front: list[QDockWidget] = []

    # -- state ------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self._active

    @property
    def column_width(self) -> int:
        """The column's width in pixels: the remembered characters in the editor's font."""
        chars = self.settings.focus_width
        metrics = QFontMetricsF(self.editor.font())
        margin = self.editor.document().documentMargin()
        return round(chars * metrics.averageCharWidth() + 2 * margin)

    def _on_toggled(self, checked: bool) -> None:
        if checked:
            self.enter()
        else:
            self.leave()

    def enter(self) -> None:
        if self._active:
            return
        self._active = True
        window = self.window
        self._window_state = window.windowState()
        self._dock_state = bytes(window.saveState().data())
        bars: list[QWidget] = [window.menuBar(), window.statusBar()]
        self._bars = {bar: bar.isVisible() for bar in bars}
        self._edges = {_TOP: [], _BOTTOM: [], _LEFT: [], _RIGHT: []}
        if self._bars[window.menuBar()]:
            self._edges[_TOP].append(window.menuBar())
        if self._bars[window.statusBar()]:
            self._edges[_BOTTOM].append(window.statusBar())
        for toolbar in window.findChildren(QToolBar):
            if toolbar.isVisible() and toolbar.parent() is window:
                edge = {
                    Qt.ToolBarArea.BottomToolBarArea: _BOTTOM,
                    Qt.ToolBarArea.LeftToolBarArea: _LEFT,
                    Qt.ToolBarArea.RightToolBarArea: _RIGHT,
                }.get(window.toolBarArea(toolbar), _TOP)
                self._edges[edge].append(toolbar)
        # Every open dock, the tabs behind others too: hiding the tab in front would bring
        # the next one forward. The ones in front come forward again when shown.
        docks = [
            dock
            for dock in window.findChildren(QDockWidget)
            if dock.toggleViewAction().isChecked() and not dock.isFloating()
        ]
        self._in_front = [dock for dock in docks if dock.isVisible()]
        for dock in docks:
            self._edges[_DOCK_EDGES.get(window.dockWidgetArea(dock), _RIGHT)].append(dock)
        for widgets in self._edges.values():
            for widget in widgets:
                widget.hide()
        self._extras_visible = {w: w.isVisible() for w in self.extras}
        for widget in self.extras:
            widget.hide()
        self._shown = set()
        editor = self.editor
        self._center_on_scroll = editor.centerOnScroll()
        editor.setCenterOnScroll(True)
        editor.cursorPositionChanged.connect(self.center_cursor)
        editor.installEventFilter(self)
        window.showFullScreen()
        self._escape.setEnabled(True)
        for act in (self.wider_action, self.narrower_action):
            act.setEnabled(True)
        self._poll.start()
        self._set_checked(True)
        self.apply_column()
        editor.setFocus()
        self.center_cursor()
        self.active_changed.emit(True)
        logger.info("Focus mode on (column of %s characters)", self.settings.focus_width)

    def leave(self) -> None:
        if not self._active:
            return
        self._active = False
        self._poll.stop()
        self._escape.setEnabled(False)
        for act in (self.wider_action, self.narrower_action):
            act.setEnabled(False)
        editor = self.editor
        editor.removeEventFilter(self)
        editor.cursorPositionChanged.disconnect(self.center_cursor)
        editor.setCenterOnScroll(self._center_on_scroll)
        editor.setViewportMargins(0, 0, 0, 0)
        window = self.window
        state = self._window_state
        if state & Qt.WindowState.WindowFullScreen:
            window.showFullScreen()
        elif state & Qt.WindowState.WindowMaximized:
            window.showMaximized()
        else:
            window.showNormal()
        window.restoreState(self._dock_state)
        for bar, visible in self._bars.items():
            bar.setVisible(visible)
        for widget, visible in self._extras_visible.items():
            widget.setVisible(visible)
        self._shown = set()
        self._set_checked(False)
        editor.ensureCursorVisible()
        self.active_changed.emit(False)
        logger.info("Focus mode off")

    def _set_checked(self, checked: bool) -> None:
        blocked = self.action.blockSignals(True)
        self.action.setChecked(checked)
        self.action.blockSignals(blocked)

    # -- the column and the scrolling -------------------------------------------------------

    def change_width(self, step: int) -> None:
        """The column ``step`` characters wider (or narrower), remembered."""
        width = max(MIN_FOCUS_WIDTH, min(MAX_FOCUS_WIDTH, self.settings.focus_width + step))
        self.settings.focus_width = width
        self.apply_column()
        self.center_cursor()

    def side_margin(self) -> int:
        """The margin each side of the column, for the editor's present width."""
        editor = self.editor
        bar = editor.verticalScrollBar()
        available = editor.contentsRect().width() - (bar.width() if bar.isVisible() else 0)
        return max(0, (available - self.column_width) // 2)

    def apply_column(self) -> None:
        if not self._active:
            return
        side = self.side_margin()
        margins = self.editor.viewportMargins()
        if margins.left() != side or margins.right() != side:
            self.editor.setViewportMargins(side, margins.top(), side, 0)

    def center_cursor(self) -> None:
        """Typewriter scrolling: the cursor's line at the middle of the editor.

        ``centerCursor`` cannot scroll above the first line, so near the start of a chapter a
        top margin takes the place of the text that is not there (nothing is hidden by it: the
        chapter's start is at the top of the viewport whenever it is there).
        """
        editor = self.editor
        editor.centerCursor()
        margins = editor.viewportMargins()
        bar = editor.verticalScrollBar()
        top = 0
        if bar.value() <= bar.minimum():
            middle = editor.contentsRect().height() // 2
            top = max(0, middle - editor.cursorRect().center().y())
        if top != margins.top():
            editor.setViewportMargins(margins.left(), top, margins.right(), 0)
            if not top:
                editor.centerCursor()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        # Installed on the editor only while focus mode is on.
        if watched is self.editor and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self.apply_column)  # once the scroll bars are laid out
        return False

    # -- the edges --------------------------------------------------------------------------

    def _follow_mouse(self) -> None:
        if QApplication.activePopupWidget() is not None:
            return  # a menu is open: keep what is shown
        self.reveal_at(self.window.mapFromGlobal(QCursor.pos()))

    def reveal_at(self, pos: QPoint) -> None:
        """Show what belongs to the edge the mouse is at (``pos`` in window coordinates), and
        hide what it has moved away from."""
        if not self._active:
            return
        rect = self.window.rect()
        inside = rect.contains(pos)
        wanted = set()
        if inside:
            x, y = pos.x(), pos.y()
            near = {
                _TOP: y <= EDGE_PX or y <= self._reach(_TOP),
                _BOTTOM: y >= rect.height() - 1 - EDGE_PX or y >= self._reach(_BOTTOM),
                _LEFT: x <= EDGE_PX or x <= self._reach(_LEFT),
                _RIGHT: x >= rect.width() - 1 - EDGE_PX or x >= self._reach(_RIGHT),
            }
            wanted = {edge for edge, here in near.items() if here and self._edges[edge]}
        for edge in (_TOP, _BOTTOM, _LEFT, _RIGHT):
            show = edge in wanted
            if show == (edge in self._shown):
                continue
            for widget in self._edges[edge]:
                widget.setVisible(show)
            if show:
                for dock in self._in_front:
                    if dock in self._edges[edge]:
                        dock.raise_()
                self._shown.add(edge)
            else:
                self._shown.discard(edge)

    def _reach(self, edge: str) -> int:
        """How far from its edge what an edge shows reaches (with some slack), while shown;
        beyond the window when nothing is shown there."""
        if edge not in self._shown:
            return -(1 << 30) if edge in (_TOP, _LEFT) else 1 << 30
        widgets = [w for w in self._edges[edge] if w.isVisible()]
        if not widgets:
            return -(1 << 30) if edge in (_TOP, _LEFT) else 1 << 30
        if edge == _TOP:
            return max(w.geometry().bottom() for w in widgets) + _SLACK_PX
        if edge == _LEFT:
            return max(w.geometry().right() for w in widgets) + _SLACK_PX
        if edge == _BOTTOM:
            return min(w.geometry().top() for w in widgets) - _SLACK_PX
        return min(w.geometry().left() for w in widgets) - _SLACK_PX

    def hidden_widgets(self) -> dict[str, list[QWidget]]:
        """What each edge shows while the mouse is there (for the tests and the window)."""
        return {edge: list(widgets) for edge, widgets in self._edges.items()}
