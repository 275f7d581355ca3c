"""Find and replace in the shown chapter, through the editor (so replacements are typed text).

Replacing goes through the editor's document like typing does: the replacement is ``human``
text, and Replace All is one undo step, after a snapshot of the chapter as it was.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QTextCursor, QTextDocument

from coauthor.core.snapshots import SnapshotKind
from coauthor.ui.dialogs import FindReplaceDialog
from coauthor.ui.workspace import Workspace

__all__ = ["FindController"]


class FindController(QObject):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.editor = workspace.editor
        self.dialog = FindReplaceDialog(workspace.window)
        self.dialog.find_requested.connect(self.find_text)
        self.dialog.replace_requested.connect(self.replace_one)
        self.dialog.replace_all_requested.connect(self.replace_all)

    def show(self, *, replace: bool) -> None:
        selected = self.editor.textCursor().selectedText().replace("\u2029", "\n")
        self.dialog.show_for(selected, replace=replace)

    def find_next(self) -> None:
        text = self.dialog.find_edit.text()
        if text:
            self.find_text(text, False, self.dialog.case.isChecked())
        else:
            self.show(replace=False)

    def find_text(self, text: str, backwards: bool, match_case: bool) -> bool:
        """Select the next match, wrapping around; say so in the dialog when there is none."""
        flags = QTextDocument.FindFlag(0)
        if backwards:
            flags |= QTextDocument.FindFlag.FindBackward
        if match_case:
            flags |= QTextDocument.FindFlag.FindCaseSensitively
        found = self.editor.find(text, flags)
        if not found:
            cursor = self.editor.textCursor()
            cursor.movePosition(
                QTextCursor.MoveOperation.End if backwards else QTextCursor.MoveOperation.Start
            )
            self.editor.setTextCursor(cursor)
            found = self.editor.find(text, flags)
        self.dialog.report("" if found else f"“{text}” was not found")
        return found

    def replace_one(self, text: str, replacement: str, match_case: bool) -> None:
        cursor = self.editor.textCursor()
        selected = cursor.selectedText()
        same = selected == text if match_case else selected.lower() == text.lower()
        if cursor.hasSelection() and same:
            cursor.insertText(replacement)
        self.find_text(text, False, match_case)

    def replace_all(self, text: str, replacement: str, match_case: bool) -> int:
        chapter = self.workspace.chapter
        if chapter is None or not text:
            return 0
        stack = self.workspace.chapter_stacks.get(chapter.id)
        cursor = QTextCursor(self.editor.document())
        flags = (
            QTextDocument.FindFlag.FindCaseSensitively if match_case else QTextDocument.FindFlag(0)
        )
        count = 0
        project = self.workspace.project
        if project is not None and not self.editor.document().find(text, cursor, flags).isNull():
            # A bulk change: the chapter as it was is kept as a snapshot (``ui.snapshots``).
            project.take_snapshot(f"Before Replace All “{text}”", [chapter], kind=SnapshotKind.BULK)
            self.workspace.mark_dirty()
        if stack is not None:
            stack.beginMacro(f"Replace All “{text}”")
        try:
            while True:
                cursor = self.editor.document().find(text, cursor, flags)
                if cursor.isNull():
                    break
                cursor.insertText(replacement)
                count += 1
        finally:
            if stack is not None:
                stack.endMacro()
        self.dialog.report(f"Replaced {count} occurrence{'s' if count != 1 else ''}")
        return count
