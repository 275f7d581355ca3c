"""The manuscript editor: a ``QPlainTextEdit`` kept in step with the chapter's provenance.

The core ``ProvenanceText`` is the source of truth. Every change to the Qt document arrives
through ``QTextDocument.contentsChange`` and is applied to the project with its origin:
typing and input-method text are human, outside pastes and drops are pasted, and text moved
inside Coauthor keeps its runs (private clipboard format). Qt positions are UTF-16; they are
converted by ``ProvenanceText.to_utf16`` / ``from_utf16`` only.

Undo and redo are ours, not the document's: each change is a ``QUndoCommand`` holding the
fragments removed and added, so undo restores text and origins exactly. Putting text back
names its source in the record (the state before the change that removed it, or the copy it
was pasted from); the project refuses a source it does not hold, and such text is then
recorded as pasted, never with the origins it claims.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import cast

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragLeaveEvent,
    QDropEvent,
    QGuiApplication,
    QHelpEvent,
    QInputMethodEvent,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
    QTextDocument,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QApplication,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QToolTip,
    QWidget,
)

from coauthor.core.book import Chapter
from coauthor.core.generation import ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project, ProjectError, Source
from coauthor.core.provenance import Fragment
from coauthor.publish.share import shared_text
from coauthor.ui.clipboard import (
    PASTE_LIMIT_CHARS,
    PASTE_PROGRESS_CHARS,
    clean_outside_text,
    fragment_from_mime,
    fragment_to_mime,
)
from coauthor.ui.highlighter import (
    BlockStyler,
    MarkdownLayout,
    ProvenanceHighlighter,
    center_scene_breaks,
)

logger = logging.getLogger(__name__)

__all__ = ["EditCommand", "EditorPane", "ProvenanceEditor"]

_TYPING_ID = 0x7E57


@functools.cache
def _undo_redo_keys() -> frozenset[int]:
    """The keys (without modifiers) of this platform's undo and redo shortcuts: a cheap test
    before ``QKeyEvent.matches`` on every key press."""
    keys = set()
    for standard in (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo):
        for sequence in QKeySequence.keyBindings(standard):
            for i in range(sequence.count()):
                keys.add(sequence[i].key().value)  # pyright: ignore[reportIndexIssue] - PySide supports it
    return frozenset(keys)


class EditCommand(QUndoCommand):
    """One change to a chapter: at ``pos``, ``removed`` was replaced by ``added``."""

    def __init__(
        self,
        editor: ProvenanceEditor,
        chapter: Chapter,
        pos: int,
        removed: Fragment,
        added: Fragment,
        *,
        typing: bool,
        removed_source: Source = (),
    ) -> None:
        super().__init__(_describe(removed, added, typing=typing))
        self.editor = editor
        self.chapter = chapter
        self.pos = pos
        self.removed = removed
        self.added = added
        self.typing = typing
        # Where each side is in the record, for putting it back: ``removed`` as it was before
        # the change, ``added`` as it was before the undo that took it out.
        self.removed_source: Source = removed_source
        self.added_source: Source = ()
        self._done = True  # the change is already in the document when pushed

    def id(self) -> int:
        return _TYPING_ID if self.typing else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, EditCommand) or other.chapter is not self.chapter:
            return False
        return self.absorb(other.pos, other.removed, other.added, other.removed_source)

    def absorb(
        self, pos: int, removed: Fragment, added: Fragment, removed_source: Source = ()
    ) -> bool:
        """Take the typing that follows this command into it, if it continues it."""
        # Typing forwards: one command per run of characters up to a line break.
        if (
            not removed.text
            and not self.removed.text
            and pos == self.pos + len(self.added.text)
            and "\n" not in added.text
            and not self.added.text.endswith("\n")
        ):
            self.added = self.added.join(added)
            return True
        # Backspacing: the removed text grows to the left.
        if not added.text and not self.added.text and pos + len(removed.text) == self.pos:
            self.removed = removed.join(self.removed)
            self.removed_source = (*removed_source, *self.removed_source)
            self.pos = pos
            return True
        return False

    def redo(self) -> None:
        if self._done:
            return
        removal = self.editor.apply_change(
            self.chapter, self.pos, len(self.removed.text), self.added, self.added_source
        )
        if removal is not None:
            self.removed_source = removal
        self._done = True

    def undo(self) -> None:
        removal = self.editor.apply_change(
            self.chapter, self.pos, len(self.added.text), self.removed, self.removed_source
        )
        if removal is not None:
            self.added_source = removal
        self._done = False


def _runs_match(head: str, tail: str, lengths: tuple[int, ...]) -> bool:
    """Whether ``head`` and ``tail`` start with runs of the same emphasis character (``*`` or
    ``_``) whose lengths are both in ``lengths``."""
    if not head or head[0] not in "*_" or not tail or tail[0] != head[0]:
        return False
    char = head[0]
    return (len(head) - len(head.lstrip(char))) in lengths and (
        len(tail) - len(tail.lstrip(char))
    ) in lengths


def _describe(removed: Fragment, added: Fragment, *, typing: bool) -> str:
    if typing:
        return "Typing" if added.text else "Deletion"
    if added.text and removed.text:
        return "Replace"
    return "Insertion" if added.text else "Deletion"


class ProvenanceEditor(QPlainTextEdit):
    """Shows one chapter; reports every change to the project with its origin."""

    changed = Signal()
    """Text or provenance of the shown chapter changed (for autosave, status, overview)."""
    paste_refused = Signal(str)
    busy = Signal(str)
    report_requested = Signal(str)
    """Report Generation… chosen on a passage of this generation (its id)."""
    notice = Signal(str)
    """A sentence for the status bar (what Paste as My Own Writing recorded)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.chapter: Chapter | None = None
        self.undo_stack: QUndoStack | None = None
        self.project_key = ""
        self.tooltip_provider: Callable[[Chapter, int], str] | None = None
        self.context_menu_hook: Callable[[QMenu, int], None] | None = None
        """Adds to the context menu for a document position (UTF-16): spelling suggestions."""
        self._overlay: ProvenanceHighlighter | None = None
        self._loading = False
        self._replaying = False
        self._incoming: Fragment | None = None
        self._incoming_source: Source = ()
        self._incoming_origin: Origin | None = None
        self._incoming_ref: str | None = None
        self._declaring = False  # inside Paste as My Own Writing
        self._composing = False  # inside an input-method event
        self.last_removal: Source = ()
        """The source of the text the last change took out (for its undo)."""
        self._units = 0  # UTF-16 length of the chapter as last synced
        # The provenance, and a Markdown chapter's styles: formats on the blocks' layouts, set
        # by the document layout as each edit is laid out (ui/highlighter.BlockStyler).
        self.styler = BlockStyler(self)
        self._paint_hook = _PaintHook(self)
        self._paint_hook_on = False
        self.styler.on_paint_work = self._update_paint_hook
        document = QTextDocument(self)
        document.setDocumentLayout(MarkdownLayout(document, self.styler))
        self.setDocument(document)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.document().setUndoRedoEnabled(False)
        # The core is updated here, before any repaint reads it.
        self.document().contentsChange.connect(self._on_contents_change)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTabChangesFocus(False)

    # -- showing a chapter ------------------------------------------------------------------

    def show_chapter(
        self,
        project: Project,
        chapter: Chapter | None,
        undo_stack: QUndoStack | None,
        project_key: str,
    ) -> None:
        self.project = project
        self.chapter = chapter
        self.undo_stack = undo_stack
        self.project_key = project_key
        self._loading = True
        markdown = chapter is not None and chapter.markup == "markdown"
        styler = self.styler
        try:
            # The new blocks have no formats: styled as they are painted, not all at once.
            styler.paused = True
            styler.scenes = False
            self.setPlainText(chapter.text.text if chapter is not None else "")
        finally:
            self._loading = False
            styler.paused = False
            styler.enabled = markdown
            styler.refresh()
        self._units = chapter.text.utf16_length() if chapter is not None else 0
        self.setReadOnly(chapter is None)
        self.moveCursor(QTextCursor.MoveOperation.Start)
        self._update_paint_hook()

    # -- positions --------------------------------------------------------------------------

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt override
        """The standard menu, its Undo and Redo acting on the chapter's undo stack (Qt's own
        act on the document's, which the editor does not use: they were always disabled), and
        Report Generation… on the model's text."""
        menu = self.createStandardContextMenu(event.pos())
        if self.context_menu_hook is not None:
            self.context_menu_hook(menu, self.cursorForPosition(event.pos()).position())
        stack = self.undo_stack
        for action in menu.actions():
            name = action.objectName()
            if stack is None or name not in ("edit-undo", "edit-redo"):
                continue
            undo = name == "edit-undo"
            ours = stack.createUndoAction(menu) if undo else stack.createRedoAction(menu)
            ours.setShortcut(action.shortcut())
            menu.insertAction(action, ours)
            menu.removeAction(action)
        chapter = self.chapter
        if chapter is not None and len(chapter.text):
            pos = self.to_code_point(self.cursorForPosition(event.pos()).position())
            origin, ref = chapter.text.origin_at(min(pos, len(chapter.text) - 1))
            if origin is Origin.AI and ref:
                menu.addSeparator()
                menu.addAction(
                    f"Report Generation {ref}…", lambda r=ref: self.report_requested.emit(r)
                )
        menu.exec(event.globalPos())
        menu.deleteLater()

    def to_code_point(self, unit: int) -> int:
        assert self.chapter is not None
        return self.chapter.text.from_utf16(unit)

    def to_utf16(self, pos: int) -> int:
        assert self.chapter is not None
        return self.chapter.text.to_utf16(pos)

    def selection_range(self) -> tuple[int, int]:
        """The selection in code points."""
        cursor = self.textCursor()
        return self.to_code_point(cursor.selectionStart()), self.to_code_point(
            cursor.selectionEnd()
        )

    def select_range(self, start: int, end: int) -> None:
        cursor = self.textCursor()
        cursor.setPosition(self.to_utf16(start))
        cursor.setPosition(self.to_utf16(end), QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        self.centerCursor()

    def go_to(self, pos: int) -> None:
        self.select_range(pos, pos)

    # -- the sync ---------------------------------------------------------------------------

    def _document_text(self, unit: int, length: int) -> str:
        if length <= 0:
            return ""
        if length == 1:  # a keystroke: no cursor needed
            char = self.document().characterAt(unit)
            return "\n" if char == "\u2029" else char
        cursor = QTextCursor(self.document())
        cursor.setPosition(unit)
        cursor.setPosition(unit + length, QTextCursor.MoveMode.KeepAnchor)
        return cursor.selectedText().replace("\u2029", "\n")

    def _on_contents_change(self, unit: int, removed_units: int, added_units: int) -> None:
        if self._loading or self.chapter is None or self.project is None:
            return
        chapter = self.chapter
        provenance = chapter.text
        # Qt may over-report around the final block; the lengths before and after are exact.
        new_units = self.document().characterCount() - 1
        added_units = max(0, min(added_units, new_units - unit))
        removed_units = self._units - new_units + added_units
        removed_units = max(removed_units, 0)
        start = provenance.from_utf16(unit)
        end = provenance.from_utf16(min(unit + removed_units, self._units))
        added_text = self._document_text(unit, added_units)
        incoming = self._incoming
        if incoming is None and (self._composing or end - start == len(added_text)):
            # Qt may report more than what changed: a re-layout notice repeats text as it is,
            # and an input-method commit reports its whole block. Only the real difference is
            # a change, so the text around it keeps its origins.
            old = provenance.text_in(start, end)
            if old == added_text:
                return
            if self._composing:
                limit = min(len(old), len(added_text))
                prefix = 0
                while prefix < limit and old[prefix] == added_text[prefix]:
                    prefix += 1
                suffix = 0
                while suffix < limit - prefix and old[-1 - suffix] == added_text[-1 - suffix]:
                    suffix += 1
                start += prefix
                end -= suffix
                added_text = added_text[prefix : len(added_text) - suffix]
        removed = provenance.slice(start, end)
        project = self.project
        if incoming is not None and incoming.text == added_text:
            added = incoming
            try:
                project.insert_fragment(
                    chapter, start, incoming, delete=end - start, source=self._incoming_source
                )
            except ProjectError:
                # Text whose source the record does not hold keeps no claimed origin.
                logger.warning("Text put back without a source in the record became pasted")
                added = Fragment.single(added_text, Origin.PASTED)
                project.replace(chapter, start, end - start, added_text, Origin.PASTED)
        elif self._declaring and added_text:
            meta = project.meta
            declaration = project.paste_own_writing(
                chapter, start, end - start, added_text, by=meta.author or meta.company
            )
            added = Fragment.single(added_text, Origin.PASTED, declaration.id)
            self.notice.emit(
                f"Pasted {len(added_text):,} characters as your own writing: your declaration "
                f"{declaration.id} is recorded in the book's history. Edit ▸ Undo takes the "
                "text out."
            )
        else:
            origin = self._incoming_origin or Origin.HUMAN
            ref = self._incoming_ref if origin is Origin.AI else None
            added = Fragment.single(added_text, origin, ref)
            project.replace(chapter, start, end - start, added_text, origin, ref)
        removal = project.last_removal
        source: Source = (removal,) if removal is not None else ()
        self.last_removal = source
        self._units = provenance.utf16_length()
        stack = self.undo_stack
        if stack is not None and not self._replaying:
            if incoming is None and self._incoming_origin is None:
                self._record_typing(stack, chapter, start, removed, added, source)
            else:
                stack.push(
                    EditCommand(
                        self, chapter, start, removed, added, typing=False, removed_source=source
                    )
                )
        self.changed.emit()

    def _record_typing(
        self,
        stack: QUndoStack,
        chapter: Chapter,
        pos: int,
        removed: Fragment,
        added: Fragment,
        source: Source,
    ) -> None:
        """Typing continues the top undo command where ``QUndoStack.push`` would merge it.

        The same rules as ``mergeWith``, applied without building a command for Qt to merge and
        delete: that is most of the cost of a keystroke's undo record. Not inside a macro
        (``canUndo`` is false there) nor onto the clean state, where Qt would not merge either,
        nor with steps to redo: ``push`` drops them (typing after an undo starts anew).
        """
        index = stack.index()
        if stack.canUndo() and index == stack.count() and index != stack.cleanIndex():
            top = stack.command(index - 1)
            if (
                isinstance(top, EditCommand)
                and top.typing
                and top.chapter is chapter
                and top.absorb(pos, removed, added, source)
            ):
                return
        stack.push(
            EditCommand(self, chapter, pos, removed, added, typing=True, removed_source=source)
        )

    def apply_change(
        self, chapter: Chapter, pos: int, delete: int, fragment: Fragment, source: Source
    ) -> Source | None:
        """Replace ``delete`` characters at ``pos`` with a fragment from ``source``, keeping
        its origins; return the source of what was replaced (None if nothing changed)."""
        if chapter is not self.chapter:
            logger.warning("Undo for a chapter that is not shown was ignored")
            return None
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.to_utf16(pos))
        cursor.setPosition(self.to_utf16(pos + delete), QTextCursor.MoveMode.KeepAnchor)
        self._replaying = True
        self._incoming = fragment
        self._incoming_source = source
        self.last_removal = ()
        try:
            cursor.insertText(fragment.text)
        finally:
            self._incoming = None
            self._incoming_source = ()
            self._replaying = False
        self.setTextCursor(cursor)
        return self.last_removal

    def insert_with_origin(self, text: str, origin: Origin) -> None:
        """Insert at the cursor with an explicit origin (used for pastes)."""
        self._incoming_origin = origin
        try:
            self.textCursor().insertText(text)
        finally:
            self._incoming_origin = None

    def insert_generated(self, text: str, generation_id: str) -> None:
        """Insert a generation's text at the cursor (replacing a selection) as fresh AI text."""
        self._incoming_origin = Origin.AI
        self._incoming_ref = generation_id
        try:
            self.textCursor().insertText(text)
        finally:
            self._incoming_origin = None
            self._incoming_ref = None

    def insert_fragment(self, fragment: Fragment, source: Source) -> None:
        """Insert text moved or copied inside Coauthor, with its origins and its source."""
        self._incoming = fragment
        self._incoming_source = source
        try:
            self.textCursor().insertText(fragment.text)
        finally:
            self._incoming = None
            self._incoming_source = ()

    # -- clipboard and drag -----------------------------------------------------------------

    def createMimeDataFromSelection(self) -> QMimeData:  # noqa: N802 - Qt override
        if self.chapter is None:
            return super().createMimeDataFromSelection()
        start, end = self.selection_range()
        if self.project is None:
            return fragment_to_mime(self.chapter.text.slice(start, end), self.project_key)
        fragment, source = self.project.register_copy(self.chapter, start, end)
        mime = fragment_to_mime(fragment, self.project_key, source)
        if _holds_pending(self.project, self.chapter, start, end):
            mime.setText(shared_text(self.project, self.chapter, start, end, pending=True).text)
        return mime

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 - Qt override
        return self.chapter is not None and source.hasText()

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt override
        if self.chapter is None or self.isReadOnly():
            return
        found = fragment_from_mime(source, self.project_key)
        if found is not None:
            self.insert_fragment(*found)
            return
        if not source.hasText():
            return
        text = self._outside_text(source)
        if text is None:
            return
        if len(text) > PASTE_PROGRESS_CHARS:
            self.busy.emit(f"Pasting {len(text):,} characters…")
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            QApplication.processEvents()
            try:
                self.insert_with_origin(text, Origin.PASTED)
            finally:
                QGuiApplication.restoreOverrideCursor()
                self.busy.emit("")
        else:
            self.insert_with_origin(text, Origin.PASTED)

    def _outside_text(self, source: QMimeData) -> str | None:
        """The text of a paste from another program, cleaned; None (and a message) if it is
        larger than a paste may be."""
        text = source.text()
        if len(text) > PASTE_LIMIT_CHARS:
            self.paste_refused.emit(
                f"This paste has {len(text):,} characters; Coauthor takes up to "
                f"{PASTE_LIMIT_CHARS:,} at once. Use File ▸ Import for text this large."
            )
            return None
        return clean_outside_text(text)

    def paste_as_own_writing(self) -> None:
        """Edit ▸ Paste as My Own Writing: the clipboard's text from outside, recorded as pasted
        with the author's declaration that it is their own writing (``core.declarations``), in
        one undo step. Text copied inside this book keeps its origins and is pasted as usual."""
        if self.chapter is None or self.isReadOnly():
            return
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasText():
            return
        if fragment_from_mime(mime, self.project_key) is not None:
            self.insertFromMimeData(mime)
            self.notice.emit(
                "Text copied inside this book keeps its origins: Paste as My Own Writing is for "
                "text from other programs."
            )
            return
        text = self._outside_text(mime)
        if not text:
            return
        stack = self.undo_stack
        if stack is not None:
            stack.beginMacro("Paste as My Own Writing")
        self._declaring = True
        self._incoming_origin = Origin.PASTED
        try:
            self.textCursor().insertText(text)
        finally:
            self._declaring = False
            self._incoming_origin = None
            if stack is not None:
                stack.endMacro()
        self.ensureCursorVisible()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        """A drop is a paste at the drop point; a move inside the editor cuts first.

        Qt's own drop runs the removal and the insertion in one edit block whose change is
        reported after the drop returns, when the dropped text's origin is no longer known,
        so everything it touched would be recorded as typed.
        """
        mime = event.mimeData()
        if self.chapter is None or self.isReadOnly() or not self.canInsertFromMimeData(mime):
            super().dropEvent(event)
            return
        super().dragLeaveEvent(QDragLeaveEvent())  # clears Qt's drop-position indicator
        unit = self.cursorForPosition(event.position().toPoint()).position()
        selection = self.textCursor()
        move = (
            event.dropAction() == Qt.DropAction.MoveAction
            and event.source() in (self, self.viewport())
            and selection.hasSelection()
        )
        event.acceptProposedAction()
        if move and selection.selectionStart() <= unit <= selection.selectionEnd():
            return  # dropped onto itself
        stack = self.undo_stack
        if stack is not None:
            stack.beginMacro("Move" if move else "Drop")
        try:
            if move:
                start, end = selection.selectionStart(), selection.selectionEnd()
                selection.removeSelectedText()
                if unit > end:
                    unit -= end - start
            cursor = self.textCursor()
            cursor.setPosition(unit)
            self.setTextCursor(cursor)
            self.insertFromMimeData(mime)
        finally:
            if stack is not None:
                stack.endMacro()
        self.ensureCursorVisible()

    # -- input methods and shortcuts --------------------------------------------------------

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:  # noqa: N802 - Qt override
        self._composing = True
        try:
            super().inputMethodEvent(event)
        finally:
            self._composing = False

    # -- Markdown ---------------------------------------------------------------------------

    def set_markdown_styling(self, enabled: bool) -> None:
        """Style the shown chapter as Markdown, or show it plain (its markup changed)."""
        self.styler.set_enabled(enabled)

    def toggle_markup(self, marker: str) -> None:
        """Wrap the selection in ``marker`` (``*`` italic, ``**`` bold), or take the markers
        off if it is already wrapped (inside or just outside the selection); with no selection,
        insert the pair and put the cursor between. Typed by the author (human), one undo step.
        """
        chapter = self.chapter
        if chapter is None or self.isReadOnly() or chapter.markup != "markdown":
            return
        provenance = chapter.text
        start, end = self.selection_range()
        n = len(marker)
        wrapped_by = {1: (1, 3), 2: (2, 3)}[n]  # run lengths that hold this marker
        stack = self.undo_stack
        if stack is not None:
            stack.beginMacro("Bold" if n == 2 else "Italic")
        try:
            if start == end:
                self._edit(start, start, marker * 2)
                self.go_to(start + n)
                return
            inner = provenance.text_in(start, end)
            before = provenance.text_in(max(0, start - 3), start)
            after = provenance.text_in(end, min(len(provenance), end + 3))
            if _runs_match(before[::-1], after, wrapped_by):
                self._edit(end, end + n, "")
                self._edit(start - n, start, "")
                self.select_range(start - n, end - n)
            elif len(inner) > 2 * n and _runs_match(inner, inner[::-1], wrapped_by):
                self._edit(end - n, end, "")
                self._edit(start, start + n, "")
                self.select_range(start, end - 2 * n)
            else:
                self._edit(end, end, marker)
                self._edit(start, start, marker)
                self.select_range(start + n, end + n)
        finally:
            if stack is not None:
                stack.endMacro()

    def _edit(self, start: int, end: int, text: str) -> None:
        """Replace code points ``start:end`` by ``text``, as the author's edit."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.to_utf16(start))
        cursor.setPosition(self.to_utf16(end), QTextCursor.MoveMode.KeepAnchor)
        if text:
            cursor.insertText(text)
        else:
            cursor.removeSelectedText()

    def _on_scrolled(self, _value: int) -> None:
        if self.styler.active:
            self.styler.pending = True

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.styler.active:
            self.styler.pending = True

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self.styler.refresh()

    # -- painting -------------------------------------------------------------------------

    @property
    def overlay(self) -> ProvenanceHighlighter | None:
        """What decides how the provenance is shown (origin colours, plain, heatmap)."""
        return self._overlay

    @overlay.setter
    def overlay(self, overlay: ProvenanceHighlighter | None) -> None:
        self._overlay = overlay
        self.styler.provenance = overlay
        if overlay is not None:
            overlay.on_changed = self._on_provenance_shown
        self._on_provenance_shown()

    def _on_provenance_shown(self) -> None:
        """What the blocks show changed (a review, the view mode, the chapter)."""
        self.styler.refresh()
        self._update_paint_hook()  # the heatmap is painted

    def _needs_paint_hook(self) -> bool:
        styler, overlay = self.styler, self._overlay
        return (
            styler.pending
            or styler.scenes
            or (overlay is not None and overlay.paints and self.chapter is not None)
        )

    def _update_paint_hook(self) -> None:
        """Watch the viewport's paints while there is work before them (blocks to style, the
        heatmap, scene breaks), and only then: a Python ``paintEvent`` would run on every
        paint, a keystroke's included, and cost it about 0.06 ms (``bench/typing.py``)."""
        needed = self._needs_paint_hook()
        if needed != self._paint_hook_on:
            self._paint_hook_on = needed
            if needed:
                self.viewport().installEventFilter(self._paint_hook)
            else:
                self.viewport().removeEventFilter(self._paint_hook)

    def _before_paint(self, event: QPaintEvent) -> None:
        """What the viewport needs before Qt paints it (from the paint hook)."""
        styler = self.styler
        if styler.pending:
            styler.style_visible()  # before anything is painted: never a plain flash
        # The colours are the blocks' formats, drawn by Qt; only the heatmap is painted, under
        # the text Qt then draws over it (the viewport's base colour was filled before this).
        overlay = self._overlay
        if overlay is not None and overlay.paints and self.chapter is not None:
            painter = QPainter(self.viewport())
            try:
                overlay.paint(painter, QRectF(event.rect()))
            finally:
                painter.end()
        elif styler.scenes:
            center_scene_breaks(self, QRectF(event.rect()))
        self._update_paint_hook()

    # -- undo keys and tooltips -------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        # Qt's text control claims the undo and redo keys for the document's own undo, which
        # is disabled: they go to this chapter's undo stack instead (the Edit menu's actions).
        # A key-press override rather than an event() override, which Python would run for
        # every event the editor receives, several per keystroke.
        stack = self.undo_stack
        if stack is not None and event.key() in _undo_redo_keys():
            if event.matches(QKeySequence.StandardKey.Undo):
                stack.undo()
                return
            if event.matches(QKeySequence.StandardKey.Redo):
                stack.redo()
                return
        super().keyPressEvent(event)

    def show_tooltip(self, global_pos: QPoint) -> bool:
        """Describe the provenance of the text under ``global_pos``; False if that is not over
        the text of a chapter."""
        point = self.viewport().mapFromGlobal(global_pos)
        if (
            self.chapter is None
            or self.tooltip_provider is None
            or not self.viewport().rect().contains(point)
        ):
            return False
        cursor = self.cursorForPosition(point)
        pos = self.to_code_point(cursor.position())
        text = self.tooltip_provider(self.chapter, pos) if pos < len(self.chapter.text) else ""
        if text:
            QToolTip.showText(global_pos, text, self)
        else:
            QToolTip.hideText()
        return True

    def refuse(self, message: str) -> None:
        QMessageBox.warning(self, "Coauthor", message)


class _PaintHook(QObject):
    """Runs ``ProvenanceEditor._before_paint`` before each paint of the editor's viewport,
    while the editor has it installed (an event filter runs before the viewport's own
    handler, inside the paint event, so it may paint under what Qt then draws)."""

    def __init__(self, editor: ProvenanceEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint:
            self._editor._before_paint(cast("QPaintEvent", event))
        return False


def _holds_pending(project: Project, chapter: Chapter, start: int, end: int) -> bool:
    """Whether ``chapter[start:end]`` holds model text still pending review.

    Copy and cut of such text put it on the plain-text flavour of the clipboard labelled (as
    Share Passage labels, but saying "pending review, not yet reviewed by a person", with the
    model's text between ``[AI]`` and ``[/AI]``) rather than refusing: moving pending text
    within the book (cut here, paste there) is ordinary editing and goes through the private
    format, untouched, so refusing would block it; and what another program receives can no
    longer pass for the author's own reviewed words. The review gate still guards every way the
    app shares or exports on purpose.
    """
    for _length, origin, ref in chapter.text.runs_in(start, end):
        if origin is not Origin.AI:
            continue
        generation = project.generations.get(ref) if ref is not None else None
        if generation is None or generation.review_state is ReviewState.PENDING:
            return True
    return False


class EditorPane(QWidget):
    """The editor with the widgets beside it (the overview strip).

    Shows the editor's provenance tooltips: Qt sends a help event to the widget under the
    mouse (the editor's viewport) and passes it up the parents while nobody takes it. Taking it
    here, rather than in an ``event()`` override on the editor, keeps Python out of the
    editor's own events, several per keystroke.
    """

    def __init__(self, editor: ProvenanceEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ToolTip
            and isinstance(event, QHelpEvent)
            and self.editor.show_tooltip(event.globalPos())
        ):
            return True
        return super().event(event)
