"""Spell check in the editor: misspelled words underlined, corrected from the context menu.

Misspellings are found after a pause, never on a keystroke. ``SpellingUnderlines`` is the
``BlockStyler``'s spelling provider: it answers from a cache of each line's misspelled words,
keyed by the line's text, so styling a block never asks a dictionary. A line whose text is not
in the cache (the one being typed in) keeps the underlines it had, moved past the edit, minus
the word the edit touched (``shift_spans``); and 400 ms after the last keystroke (150 ms after a
scroll over lines already styled) the lines on screen and the screen below (what the styler
keeps styled) that the cache lacks are checked, in slices of at most 8 ms, and only the blocks
whose underlines changed are formatted again (``BlockStyler.restyle_visible``).

The underline is dotted and red (lighter on dark themes): pending model text has a vermillion
wave, and the two must not be told apart by colour alone.

``SpellingController`` wires it: View ▸ Check Spelling, the book's language (Book Details), its
word list (``store.wordlist``: in the project file) and the author's (a file in the data
folder), and the suggestions, Ignore in This Book and Add to My Dictionary of the context menu.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QLocale, QObject, QTimer
from PySide6.QtGui import QAction, QColor, QPalette, QTextBlock, QTextCharFormat, QTextCursor
from PySide6.QtGui import QTextLayout as _Layout

from coauthor.core.spelling import (
    Dictionary,
    SpellChecker,
    WordList,
    dictionary_tag,
    open_dictionary,
    shift_spans,
)
from coauthor.core.textpos import Utf16Map
from coauthor.store import ProjectFileError
from coauthor.store.wordlist import read_book_words, write_book_words
from coauthor.ui.editor import ProvenanceEditor
from coauthor.ui.highlighter import format_ranges
from coauthor.ui.worker import Job
from coauthor.ui.workspace import Workspace

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

logger = logging.getLogger(__name__)

__all__ = ["Misspelling", "SpellingController", "SpellingUnderlines", "missing_dictionary"]

TYPING_PAUSE_MS = 400
"""The check runs this long after the last keystroke."""
SCROLL_PAUSE_MS = 150
_SLICE_S = 0.008
"""The longest the check holds the GUI thread at once; it goes on in the next slice."""
_GUESS_EDIT_CHARS = 64
"""A line's underlines are carried over an edit of at most this many characters."""
_CHECKED_LINES = 20_000
_GUESSED_LINES = 512

Spans = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Misspelling:
    """A misspelled word in the document: its UTF-16 positions and its text."""

    start: int
    end: int
    word: str


class SpellingUnderlines:
    """The styler's spelling provider: each block's misspelled words as format ranges, from
    the idle check's cache (``block_ranges``), and the idle check itself."""

    def __init__(self, editor: ProvenanceEditor) -> None:
        self.editor = editor
        self.checker: SpellChecker | None = None
        self.enabled = False
        self._checked: dict[str, Spans] = {}
        """Each checked line's misspelled words, in code points, by the line's text."""
        self._guessed: dict[str, Spans] = {}
        """Lines edited since their check: the underlines carried over the edit."""
        self._shown: dict[int, tuple[str, Spans]] = {}
        """What each block (by number) was last given: the text, and its underlines."""
        self.moved_only = False
        """Whether the last ``block_ranges`` gave, away from the edit, the underlines the block
        had before it, moved with the text."""
        self._checking = False
        self._format = QTextCharFormat()
        self.set_dark(dark=False)
        self.timer = QTimer(editor)
        self.timer.setSingleShot(True)
        self.timer.setInterval(TYPING_PAUSE_MS)
        self.timer.timeout.connect(self.check_visible)
        editor.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    @property
    def active(self) -> bool:
        return self.enabled and self.checker is not None

    def set_dark(self, *, dark: bool) -> None:
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        fmt.setUnderlineColor(QColor("#FF6B6B") if dark else QColor("#D00000"))
        self._format = fmt

    def set_checker(self, checker: SpellChecker | None, *, enabled: bool) -> None:
        """A dictionary (or none) and whether to underline: every block is styled again."""
        self.checker = checker
        self.enabled = enabled
        self.forget()
        if self.active:
            self.timer.start(0)
        self.editor.styler.refresh()

    def forget(self) -> None:
        """The dictionary or a word list changed: every line is checked again."""
        self._checked.clear()
        self._guessed.clear()
        self._shown.clear()
        if self.checker is not None:
            self.checker.forget()

    def forget_blocks(self) -> None:
        """Another chapter is shown: what its blocks had is no guide to the new ones."""
        self._shown.clear()
        self._guessed.clear()

    def recheck(self) -> None:
        """A word list changed: check the lines on screen now and underline them anew."""
        if self.checker is not None:
            self.checker.forget()
        self._checked.clear()
        self._guessed.clear()
        self.check_visible(budget=None)

    # -- for the styler (on the keystroke path: no dictionary) ----------------------------------

    def block_ranges(self, block: QTextBlock) -> tuple[list[_Layout.FormatRange], int]:
        """The block's underlines and a key that changes with them (0: none). Sets
        ``moved_only``: whether, away from the edit since the block was last styled, they are
        the underlines it had, moved with the text (so only the edited lines need repainting)."""
        text = block.text()
        number = block.blockNumber()
        moved = self._moved(number, text)
        spans = self._checked.get(text)
        if spans is None:
            spans = self._guessed.get(text)
            if spans is None:
                spans = self._guess(text, moved)
            if not self._checking:
                self.timer.start(TYPING_PAUSE_MS)
        self._shown[number] = (text, spans)
        if moved is None:
            self.moved_only = False
        else:
            kept, start, end = moved
            self.moved_only = list(kept) == [(s, e) for s, e in spans if e < start or s > end]
        if not spans:
            return [], 0
        fmt = self._format
        return format_ranges(text, ((start, end, fmt) for start, end in spans)), hash(spans) | 1

    def _moved(self, number: int, text: str) -> tuple[Spans, int, int] | None:
        """The underlines block ``number`` last had, moved over the small edit that made
        ``text`` of its text then (those touching the edit dropped), and the edit's span in
        ``text``; None if it had none recorded or the edit is not small."""
        shown = self._shown.get(number)
        if shown is None:
            return None
        old, old_spans = shown
        if old == text:
            return old_spans, len(text), -1  # nothing edited: nothing touches it
        prefix = _common_prefix(old, text)
        suffix = _common_suffix(old, text, min(len(old), len(text)) - prefix)
        old_end, new_end = len(old) - suffix, len(text) - suffix
        if max(old_end, new_end) - prefix > _GUESS_EDIT_CHARS:
            return None
        return tuple(shift_spans(old_spans, prefix, old_end, new_end)), prefix, new_end

    def _guess(self, text: str, moved: tuple[Spans, int, int] | None) -> Spans:
        """The underlines the block had, carried over a small edit (none otherwise)."""
        spans: Spans = moved[0] if moved is not None else ()
        if len(self._guessed) >= _GUESSED_LINES:
            self._guessed.clear()
        self._guessed[text] = spans
        return spans

    # -- after a pause ----------------------------------------------------------------------

    def _on_scrolled(self, _value: int) -> None:
        if self.active and not self.timer.isActive():
            self.timer.start(SCROLL_PAUSE_MS)

    def check_visible(self, budget: float | None = _SLICE_S) -> None:
        """Check the lines the styler keeps styled (the screen and the one below) that were
        not yet, for at most ``budget`` seconds (then again in the next turn of the event
        loop); when all are, format again the blocks whose underlines changed."""
        checker = self.checker
        if not self.active or checker is None:
            return
        editor = self.editor
        deadline = None if budget is None else time.perf_counter() + budget
        bottom = editor.viewport().height() * 2
        dy = editor.contentOffset().y()
        block = editor.firstVisibleBlock()
        checked = self._checked
        if len(checked) > _CHECKED_LINES:
            checked.clear()
        while block.isValid():
            if editor.blockBoundingGeometry(block).top() + dy > bottom:
                break
            text = block.text()
            if text not in checked:
                if deadline is not None and time.perf_counter() > deadline:
                    self.timer.start(0)
                    return
                checked[text] = tuple(checker.misspelled(text))
            block = block.next()
        self._guessed.clear()
        self._checking = True
        try:
            editor.styler.restyle_visible()
        finally:
            self._checking = False

    # -- for the context menu ---------------------------------------------------------------

    def misspelling_at(self, unit: int) -> Misspelling | None:
        """The misspelled word at a document position (UTF-16), if any: checked now."""
        checker = self.checker
        if not self.active or checker is None:
            return None
        block = self.editor.document().findBlock(unit)
        if not block.isValid():
            return None
        text = block.text()
        units = Utf16Map(text)
        offset = units.to_code_point(unit - block.position())
        spans = self._checked.get(text)
        if spans is None:
            spans = self._checked[text] = tuple(checker.misspelled(text))
        for start, end in spans:
            if start <= offset <= end:
                base = block.position()
                return Misspelling(
                    base + units.to_utf16(start), base + units.to_utf16(end), text[start:end]
                )
        return None


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix (a binary search over C-speed compares)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo]; a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the longest common suffix, at most ``limit``."""
    if limit <= 0:
        return 0
    if a[len(a) - limit :] == b[len(b) - limit :]:
        return limit
    lo, hi = 0, limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid
    return lo


def missing_dictionary(language: str) -> str:
    """The sentence the author reads when no dictionary for the book's language is installed."""
    tag = dictionary_tag(language)
    if not tag:
        return "Spelling is not checked: the book has no language. Set it in Book ▸ Book Details."
    locale = QLocale(tag)
    name = QLocale.languageToString(locale.language())
    if "_" in tag and locale.territory() != QLocale.Country.AnyTerritory:
        name = f"{name} ({QLocale.territoryToString(locale.territory())})"
    if locale.language() in (QLocale.Language.C, QLocale.Language.AnyLanguage):
        name = f"“{language}”"
    package = tag.split("_")[0].lower()
    return (
        f"Spelling is not checked: no dictionary for {name} is installed. Install a Hunspell "
        f"dictionary for it (on Debian or Ubuntu: apt search hunspell-{package}), or set the "
        "book's language in Book ▸ Book Details."
    )


class SpellingController(QObject):
    """View ▸ Check Spelling, the book's language and word lists, and the context menu."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.editor = workspace.editor
        self.underlines = SpellingUnderlines(self.editor)
        self.editor.styler.spelling = self.underlines
        self.user_words = WordList.load(workspace.settings.user_words_path)
        self.book_words = WordList()
        self.language = ""
        self._dictionaries: dict[str, Dictionary | None] = {}
        """Each language's dictionary once opened (None: none is installed)."""
        self.job: Job | None = None
        self.problem = ""
        """Why spelling is not checked although it is on (no dictionary), or empty."""
        self.action = QAction("Check &Spelling", workspace.window)
        self.action.setCheckable(True)
        self.action.setShortcut("F7")
        self.action.setChecked(workspace.settings.spell_check)
        self.action.setStatusTip(
            "Underline misspelled words (dotted, red) in the book's language, from Book Details"
        )
        self.action.toggled.connect(self.set_enabled)
        workspace.project_opened.connect(lambda _path: self.load_book())
        workspace.meta_changed.connect(self._on_meta_changed)
        workspace.chapter_shown.connect(lambda _chapter: self.underlines.forget_blocks())
        self.editor.context_menu_hook = self.fill_context_menu
        self.set_dark(self.editor.palette())

    @property
    def enabled(self) -> bool:
        return self.action.isChecked()

    def set_dark(self, palette: QPalette) -> None:
        """The underline's colour for the theme (darker or lighter red)."""
        self.underlines.set_dark(dark=palette.color(QPalette.ColorRole.Base).lightness() < 128)

    def set_enabled(self, on: bool) -> None:
        self.workspace.settings.spell_check = on
        self._apply()

    def load_book(self) -> None:
        """A project was opened: its language and its word list."""
        session = self.workspace.session
        self.book_words = WordList(read_book_words(session.file) if session else set())
        self._apply()

    def _on_meta_changed(self) -> None:
        project = self.workspace.project
        if project is not None and project.meta.language != self.language:
            self._apply()

    def _apply(self) -> None:
        """Underline in the book's language, if spelling is on. A dictionary is opened once
        per language, in a worker (a tenth of a second: not on the way to the first paint)."""
        project = self.workspace.project
        if project is None or not self.enabled:
            self.problem = ""
            self.underlines.set_checker(self.underlines.checker, enabled=False)
            return
        language = project.meta.language
        self.language = language
        if language in self._dictionaries:
            self._use(self._dictionaries[language], language)
            return
        if self.job is not None and self.job.running:
            return  # its end applies the language again
        self.underlines.set_checker(None, enabled=False)
        self.job = Job(lambda _report, _cancel: open_dictionary(language), self)
        self.job.finished.connect(lambda found: self._opened(language, found))
        self.job.failed.connect(lambda _message: self._opened(language, None))
        self.job.start()

    def _opened(self, language: str, dictionary: object) -> None:
        self._dictionaries[language] = cast("Dictionary | None", dictionary)
        self._apply()

    def _use(self, dictionary: Dictionary | None, language: str) -> None:
        checker = self.underlines.checker
        if dictionary is None:
            self.problem = missing_dictionary(language)
            checker = None
        else:
            self.problem = ""
            if checker is None or checker.dictionary is not dictionary:
                checker = SpellChecker(dictionary)
            checker.lists = [self.book_words, self.user_words]
        self.underlines.set_checker(checker, enabled=True)
        self.action.setToolTip(self.problem or "Underline misspelled words")
        if self.problem:
            self.workspace.show_message(self.problem, 0)

    def stop(self) -> None:
        """Wait for a dictionary still being opened (the project or the window closes)."""
        if self.job is not None and self.job.running:
            self.job.wait()

    # -- the context menu -------------------------------------------------------------------

    def fill_context_menu(self, menu: QMenu, unit: int) -> None:
        """Put the suggestions for the misspelled word at ``unit`` first in the editor's
        context menu, with Ignore in This Book and Add to My Dictionary."""
        actions = menu.actions()
        first = actions[0] if actions else None

        def put(act: QAction | None = None) -> None:
            if act is None:
                act = QAction(menu)
                act.setSeparator(True)
            if first is None:
                menu.addAction(act)
            else:
                menu.insertAction(first, act)

        if self.enabled and self.problem and self.workspace.project is not None:
            note = QAction("Spelling: no dictionary for the book's language", menu)
            note.setEnabled(False)
            note.setToolTip(self.problem)
            put(note)
            put()
            return
        found = self.underlines.misspelling_at(unit)
        checker = self.underlines.checker
        if found is None or checker is None or self.editor.isReadOnly():
            return
        suggestions = checker.suggest(found.word)
        items: list[QAction] = []
        for suggestion in suggestions:
            act = QAction(suggestion, menu)
            font = act.font()
            font.setBold(True)
            act.setFont(font)
            act.triggered.connect(lambda _=False, s=suggestion: self.replace(found, s))
            items.append(act)
        if not suggestions:
            none = QAction("No suggestions", menu)
            none.setEnabled(False)
            items.append(none)
        ignore = QAction(f"Ignore “{found.word}” in This Book", menu)
        ignore.triggered.connect(lambda: self.ignore_in_book(found.word))
        add = QAction(f"Add “{found.word}” to My Dictionary", menu)
        add.triggered.connect(lambda: self.add_to_dictionary(found.word))
        for act in [*items, None, ignore, add, None]:
            put(act)

    def replace(self, found: Misspelling, suggestion: str) -> None:
        """Put the suggestion in place of the word: the author's edit, one undo step."""
        editor = self.editor
        document = editor.document()
        cursor = QTextCursor(document)
        cursor.setPosition(found.start)
        cursor.setPosition(found.end, QTextCursor.MoveMode.KeepAnchor)
        if cursor.selectedText() != found.word:
            return  # the text changed under the menu
        stack = editor.undo_stack
        if stack is not None:
            stack.beginMacro(f"Correct “{found.word}”")
        try:
            cursor.insertText(suggestion)
        finally:
            if stack is not None:
                stack.endMacro()

    def ignore_in_book(self, word: str) -> None:
        """Accept the word in this book: its word list, in the project file."""
        session = self.workspace.session
        if session is None:
            return
        self.book_words.add(word)
        try:
            write_book_words(session.file, self.book_words.words)
        except ProjectFileError as exc:
            self.workspace.show_message(str(exc), 10_000)
        self.underlines.recheck()

    def add_to_dictionary(self, word: str) -> None:
        """Accept the word in every book: the author's word list, in the data folder."""
        try:
            self.user_words.add(word)
        except OSError as exc:
            self.workspace.show_message(
                f"“{word}” is accepted until Coauthor closes: the word list "
                f"{self.user_words.path} could not be written ({exc.strerror or exc}).",
                10_000,
            )
        self.underlines.recheck()
