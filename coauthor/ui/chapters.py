"""The chapter list: a thin model over ``project.chapters`` and the commands that change it.

Renames, moves, additions and removals go through ``Project`` (so they enter the history) as
``QUndoCommand``s on the book's undo stack, so each can be undone.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from coauthor.core.book import Chapter
from coauthor.core.project import Project

__all__ = [
    "AddChapter",
    "ChapterListModel",
    "ChapterListView",
    "MoveChapter",
    "RemoveChapter",
    "SetMarkup",
    "new_chapter_title",
]

_MIME_ROW = "application/x-coauthor-chapter-row"
_Index = QModelIndex | QPersistentModelIndex


def new_chapter_title(chapters: Sequence[Chapter], index: int) -> str:
    """The title of a chapter added at ``index``: "Chapter N" for its place in the book (the
    third chapter is "Chapter 3", wherever it was added), or "New Chapter" when a chapter
    already has that title (numbers would then repeat or mislead); the author renames it."""
    taken = {chapter.title for chapter in chapters}
    by_place = f"Chapter {index + 1}"
    if by_place not in taken:
        return by_place
    title, n = "New Chapter", 2
    while title in taken:
        title, n = f"New Chapter {n}", n + 1
    return title


class ChapterListModel(QAbstractListModel):
    rename_requested = Signal(object, str)  # chapter, new title
    move_requested = Signal(object, int)  # chapter, new index

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.project.chapters)

    def chapter_at(self, row: int) -> Chapter | None:
        chapters = self.project.chapters
        return chapters[row] if 0 <= row < len(chapters) else None

    def row_of(self, chapter: Chapter) -> int:
        try:
            return self.project.chapters.index(chapter)
        except ValueError:
            return -1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        chapter = self.chapter_at(index.row())
        if chapter is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return chapter.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{chapter.title} — {len(chapter.text):,} characters"
        return None

    def setData(self, index: _Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        chapter = self.chapter_at(index.row())
        title = str(value).strip()
        if chapter is None or role != Qt.ItemDataRole.EditRole or not title:
            return False
        if title != chapter.title:
            self.rename_requested.emit(chapter, title)
        return True

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDropEnabled
        if not index.isValid():
            return base
        return (
            base
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemIsDragEnabled
        )

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [_MIME_ROW]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        if indexes:
            mime.setData(_MIME_ROW, QByteArray(str(indexes[0].row()).encode()))
        return mime

    def dropMimeData(  # noqa: N802
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _Index
    ) -> bool:
        if action != Qt.DropAction.MoveAction or not data.hasFormat(_MIME_ROW):
            return False
        source = int(bytes(data.data(_MIME_ROW).data()).decode())
        chapter = self.chapter_at(source)
        if chapter is None:
            return False
        target = row if row >= 0 else (parent.row() if parent.isValid() else self.rowCount())
        if target > source:
            target -= 1
        if target != source:
            self.move_requested.emit(chapter, target)
        # The move is done by the command; tell the view not to remove the source row itself.
        return False

    def refresh(self) -> None:
        self.beginResetModel()
        self.endResetModel()


class ChapterListView(QListView):
    open_requested = Signal(object)  # chapter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAccessibleName("Chapters")

    def currentChanged(self, current: _Index, previous: _Index) -> None:  # noqa: N802
        super().currentChanged(current, previous)
        model = self.model()
        if isinstance(model, ChapterListModel) and current.isValid():
            chapter = model.chapter_at(current.row())
            if chapter is not None:
                self.open_requested.emit(chapter)


class _ChapterCommand(QUndoCommand):
    def __init__(self, text: str, project: Project, model: ChapterListModel) -> None:
        super().__init__(text)
        self.project = project
        self.model = model


class AddChapter(_ChapterCommand):
    def __init__(self, project: Project, model: ChapterListModel, title: str, index: int) -> None:
        super().__init__(f"Add Chapter “{title}”", project, model)
        self.title = title
        self.index = index
        self.chapter: Chapter | None = None

    def redo(self) -> None:
        if self.chapter is None:
            self.chapter = self.project.add_chapter(self.title, self.index)
        else:
            self.project.restore_chapter(self.chapter, self.index)
        self.model.refresh()

    def undo(self) -> None:
        assert self.chapter is not None
        self.project.remove_chapter(self.chapter)
        self.model.refresh()


class RemoveChapter(_ChapterCommand):
    def __init__(self, project: Project, model: ChapterListModel, chapter: Chapter) -> None:
        super().__init__(f"Delete Chapter “{chapter.title}”", project, model)
        self.chapter = chapter
        self.index = project.chapters.index(chapter)

    def redo(self) -> None:
        self.project.remove_chapter(self.chapter)
        self.model.refresh()

    def undo(self) -> None:
        self.project.restore_chapter(self.chapter, self.index)
        self.model.refresh()


class MoveChapter(_ChapterCommand):
    def __init__(
        self, project: Project, model: ChapterListModel, chapter: Chapter, index: int
    ) -> None:
        super().__init__(f"Move Chapter “{chapter.title}”", project, model)
        self.chapter = chapter
        self.old = project.chapters.index(chapter)
        self.new = index

    def redo(self) -> None:
        self.project.move_chapter(self.chapter, self.new)
        self.model.refresh()

    def undo(self) -> None:
        self.project.move_chapter(self.chapter, self.old)
        self.model.refresh()


class RenameChapter(_ChapterCommand):
    def __init__(
        self, project: Project, model: ChapterListModel, chapter: Chapter, title: str
    ) -> None:
        super().__init__(f"Rename Chapter “{chapter.title}”", project, model)
        self.chapter = chapter
        self.old = chapter.title
        self.new = title

    def redo(self) -> None:
        self.project.rename_chapter(self.chapter, self.new)
        self.model.refresh()

    def undo(self) -> None:
        self.project.rename_chapter(self.chapter, self.old)
        self.model.refresh()


class SetMarkup(_ChapterCommand):
    """Read a chapter as Markdown or as plain text (an event in the history; undoable)."""

    def __init__(
        self, project: Project, model: ChapterListModel, chapter: Chapter, markup: str
    ) -> None:
        what = "as Markdown" if markup == "markdown" else "as Plain Text"
        super().__init__(f"Read “{chapter.title}” {what}", project, model)
        self.chapter = chapter
        self.old = chapter.markup
        self.new = markup

    def redo(self) -> None:
        self.project.set_markup(self.chapter, self.new)
        self.model.refresh()

    def undo(self) -> None:
        self.project.set_markup(self.chapter, self.old)
        self.model.refresh()
