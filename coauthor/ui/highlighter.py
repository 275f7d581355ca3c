"""Provenance made visible in the editor: plain, origin colours, or a paragraph heatmap.

Pending AI text is marked in every mode, not by colour alone: a wavy underline and a hatched
background. The highlighter reads runs from the chapter's ``ProvenanceText`` for the block
being drawn; it never stores provenance of its own.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.textpos import Utf16Map
from coauthor.ui.palette import OriginPalette

__all__ = ["ProvenanceHighlighter", "ViewMode"]


class ViewMode(StrEnum):
    PLAIN = "plain"
    ORIGINS = "origins"
    HEATMAP = "heatmap"


class ProvenanceHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, palette: OriginPalette) -> None:
        super().__init__(document)
        self.chapter: Chapter | None = None
        self.generations: dict[str, Generation] = {}
        self.mode = ViewMode.ORIGINS
        self._formats: dict[tuple[Origin, bool], QTextCharFormat] = {}
        self._heat_cache: dict[int, QTextCharFormat] = {}
        self.set_palette(palette)

    def set_palette(self, palette: OriginPalette) -> None:
        self.palette = palette
        self._formats.clear()
        self._heat_cache.clear()
        for origin in Origin:
            plain = QTextCharFormat()
            if origin is not Origin.HUMAN:
                plain.setBackground(palette.backgrounds[origin])
            self._formats[(origin, False)] = plain
        pending = QTextCharFormat()
        pending.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        pending.setUnderlineColor(palette.pending_underline)
        brush = QBrush(palette.pending_background, Qt.BrushStyle.BDiagPattern)
        pending.setBackground(brush)
        self._pending = pending
        coloured_pending = QTextCharFormat(pending)
        coloured_pending.setBackground(QBrush(palette.pending_background))
        self._coloured_pending = coloured_pending

    def set_view(self, chapter: Chapter | None, generations: dict[str, Generation]) -> None:
        self.chapter = chapter
        self.generations = generations
        self.rehighlight()

    def set_mode(self, mode: ViewMode) -> None:
        if mode != self.mode:
            self.mode = ViewMode(mode)
            self.rehighlight()

    def is_pending(self, ref: str | None) -> bool:
        generation = self.generations.get(ref) if ref else None
        return generation is not None and generation.review_state is ReviewState.PENDING

    def _heat_format(self, share: float) -> QTextCharFormat:
        key = round(share * 20)
        fmt = self._heat_cache.get(key)
        if fmt is None:
            fmt = QTextCharFormat()
            if key:
                fmt.setBackground(self.palette.heat(key / 20))
            self._heat_cache[key] = fmt
        return fmt

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        chapter = self.chapter
        if chapter is None or not text:
            return
        provenance = chapter.text
        block = self.currentBlock()
        unit = block.position()
        if unit > provenance.utf16_length():
            return  # the document is ahead of the core mid-edit; the next pass draws it
        start = provenance.from_utf16(unit)
        end = min(start + len(text), len(provenance))
        runs = list(provenance.runs_in(start, end))
        units = None if text.isascii() else Utf16Map(text)

        def span(offset: int, length: int) -> tuple[int, int]:
            if units is None or units.is_identity:
                return offset, length
            a = units.to_utf16(offset)
            return a, units.to_utf16(offset + length) - a

        mode = self.mode
        if mode is ViewMode.HEATMAP:
            ai = sum(n for n, origin, _ in runs if origin is Origin.AI)
            total = sum(n for n, _, _ in runs)
            if total:
                self.setFormat(*span(0, total), self._heat_format(ai / total))
        offset = 0
        for length, origin, ref in runs:
            pending = origin is Origin.AI and self.is_pending(ref)
            if pending:
                fmt = self._coloured_pending if mode is ViewMode.ORIGINS else self._pending
                self.setFormat(*span(offset, length), fmt)
            elif mode is ViewMode.ORIGINS and origin is not Origin.HUMAN:
                self.setFormat(*span(offset, length), self._formats[(origin, False)])
            offset += length
