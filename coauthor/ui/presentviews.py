"""The widgets of Present mode (``ui.present``): what the audience sees and the presenter's pane.

``audience_pieces`` decides what of a chapter the audience may read: the model's approved text,
marked, and never a word of text pending review. ``AudienceView`` draws it in large type under
``PresentBanner``, which cannot be hidden while presenting. ``PresenterPane`` only requests
(send, send anyway, stop, approve, discard, end); ``PresentController`` acts.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from coauthor.core.book import Chapter
from coauthor.core.generation import ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish.html_export import blocks_html
from coauthor.publish.markup import chapter_blocks
from coauthor.ui.palette import blend_over, palette_for

__all__ = [
    "BANNER_TEXT",
    "WITHHELD_TEXT",
    "AudienceView",
    "Piece",
    "PieceKind",
    "PresentBanner",
    "PresenterPane",
    "audience_pieces",
]

BANNER_TEXT = "AI-generated text is marked"
WITHHELD_TEXT = "[awaiting review]"
"""What the audience sees where text pending review is: never the text itself."""

_AI_UNDERLINE = QColor("#0072B2")  # the origin palette's AI blue (Okabe–Ito)
_TEXT_POINTS = 28
_BANNER_POINTS = 22


def _ai_background() -> QColor:
    """The origin colours' AI tint over the audience view's white page."""
    light = QPalette()
    light.setColor(QPalette.ColorRole.Base, QColor("white"))
    return blend_over(palette_for(light).backgrounds[Origin.AI], QColor("white"))


# -- what the audience may see ----------------------------------------------------------------


class PieceKind(Enum):
    TEXT = "text"
    AI = "ai"
    """The model's text, approved: shown, and marked."""
    WITHHELD = "withheld"
    """The model's text not approved (pending review): replaced by ``WITHHELD_TEXT``."""


class Piece(NamedTuple):
    text: str
    kind: PieceKind


def audience_pieces(project: Project, chapter: Chapter) -> list[Piece]:
    """The chapter as the audience may see it: approved AI text marked, and every passage of
    AI text not approved replaced by one ``WITHHELD_TEXT``."""
    pieces: list[Piece] = []
    text = chapter.text.text
    pos = 0
    for length, origin, ref in chapter.text.runs():
        chunk = text[pos : pos + length]
        pos += length
        kind = PieceKind.TEXT
        if origin is Origin.AI:
            record = project.generations.get(ref or "")
            approved = record is not None and record.review_state is ReviewState.APPROVED
            kind = PieceKind.AI if approved else PieceKind.WITHHELD
        if kind is PieceKind.WITHHELD:
            chunk = WITHHELD_TEXT
        if pieces and pieces[-1].kind is kind:
            if kind is not PieceKind.WITHHELD:
                pieces[-1] = Piece(pieces[-1].text + chunk, kind)
            continue
        pieces.append(Piece(chunk, kind))
    return pieces


# -- widgets ----------------------------------------------------------------------------------


class PresentBanner(QLabel):
    """The label above the audience view. While ``locked`` (presenting) it cannot be hidden."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("presentBanner")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextFormat(Qt.TextFormat.RichText)
        font = self.font()
        font.setPointSize(_BANNER_POINTS)
        font.setBold(True)
        self.setFont(font)
        self.setStyleSheet(
            "QLabel#presentBanner { background: #1B2A3A; color: white; padding: 12px; }"
        )
        self.locked = False
        self.notice = ""
        self.set_notice("")

    def set_notice(self, notice: str) -> None:
        self.notice = notice.strip()
        sample = (
            f'<span style="background: {_ai_background().name()}; color: black; '
            f'text-decoration: underline;">like this</span>'
        )
        lines = [f"{BANNER_TEXT} {sample}"]
        if self.notice:
            lines.append(f'<span style="font-weight: normal;">{_escape(self.notice)}</span>')
        self.setText("<br>".join(lines))

    def plain_text(self) -> str:
        """The banner's words, without markup."""
        return f"{BANNER_TEXT} like this" + (f"\n{self.notice}" if self.notice else "")

    def setVisible(self, visible: bool) -> None:  # noqa: N802 - Qt override
        if self.locked and not visible:
            return
        super().setVisible(visible)


def _audience_marking(origin: Origin, ref: str | None) -> tuple[str, str] | None:
    """The spans of the audience's page: its runs carry the piece kind as their ref."""
    if ref == PieceKind.AI.value:
        return "ai", "AI-generated, reviewed"
    if ref == PieceKind.WITHHELD.value:
        return "withheld", "AI-generated, awaiting review: not shown"
    return None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AudienceView(QWidget):
    """What the audience sees: the banner and the chapter in large type, read-only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audienceView")
        self.banner = PresentBanner()
        self.title = QLabel()
        self.title.setObjectName("audienceTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title_font = self.title.font()
        title_font.setPointSize(_BANNER_POINTS)
        self.title.setFont(title_font)
        self.page = QTextBrowser()
        self.page.setObjectName("audienceText")
        self.page.setOpenLinks(False)
        self.page.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.page.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        font = QFont(self.page.font())
        font.setPointSize(_TEXT_POINTS)
        self.page.document().setDefaultFont(font)
        self.page.document().setDocumentMargin(32)
        self.page.setStyleSheet("QTextBrowser#audienceText { background: white; color: #111; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.title)
        layout.addWidget(self.page, 1)

    def show_chapter(self, project: Project, chapter: Chapter) -> None:
        """The chapter as a reader sees it (its Markdown rendered, as in the exports), from
        ``audience_pieces``: the approved model text marked, pending text withheld."""
        self.banner.set_notice(project.meta.present_notice)
        self.title.setText(chapter.title)
        pieces = audience_pieces(project, chapter)
        text = "".join(piece.text for piece in pieces)
        runs = [
            (len(p.text), Origin.HUMAN if p.kind is PieceKind.TEXT else Origin.AI, p.kind.value)
            for p in pieces
            if p.text
        ]
        blocks = chapter_blocks(text, runs, chapter.markup)
        document = self.page.document()
        document.setDefaultStyleSheet(
            f".ai {{ background-color: {_ai_background().name()}; text-decoration: underline; }}"
            " .withheld { color: #777777; font-style: italic; }"
            " hr { margin: 12px 30%; }"
        )
        self.page.setHtml(str(blocks_html(blocks, _audience_marking)))

    def text(self) -> str:
        """Everything the audience can read on the page (without the spaces the HTML layout
        leaves at the ends of paragraphs)."""
        return "\n".join(line.rstrip() for line in self.page.toPlainText().split("\n"))

    def scroll_to_end(self) -> None:
        bar = self.page.verticalScrollBar()
        bar.setValue(bar.maximum())


class PresenterPane(QWidget):
    """The presenter's private pane: the audience request, its screening, the generation as
    it streams, and Approve && Show / Discard. It only requests; the controller acts."""

    send_requested = Signal(str)
    send_anyway_requested = Signal(str, str)  # the prompt as screened, the reason
    cancel_requested = Signal()
    approve_requested = Signal()
    discard_requested = Signal()
    end_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("presenterPane")
        heading = QLabel("<b>Presenter</b>: private, the audience does not see this pane")
        heading.setWordWrap(True)
        self.chapter = QLabel()
        self.chapter.setWordWrap(True)
        self.prompt = QLineEdit()
        self.prompt.setObjectName("presentPrompt")
        self.prompt.setPlaceholderText(
            "An audience request (empty: continue the chapter); screened before it is sent"
        )
        self.send_button = QPushButton("Send")
        self.flags = QLabel()
        self.flags.setObjectName("presentFlags")
        self.flags.setWordWrap(True)
        self.flags.setStyleSheet("color: #D55E00")
        self.reason = QLineEdit()
        self.reason.setObjectName("presentOverrideReason")
        self.reason.setPlaceholderText("Why send it anyway (recorded in the history)")
        self.send_anyway_button = QPushButton("Send Anyway")
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("presenterPreview")
        self.preview.setReadOnly(True)
        self.preview.setPlaceholderText(
            "The model's text streams here. The audience sees it only after you approve it."
        )
        self.cancel_button = QPushButton("Stop")
        self.approve_button = QPushButton("Approve && Show")
        self.discard_button = QPushButton("Discard")
        self.note = QLabel()
        self.note.setObjectName("presentNote")
        self.note.setWordWrap(True)
        self.shown = QLabel()
        self.end_button = QPushButton("End Presentation (Esc)")

        ask = QHBoxLayout()
        ask.addWidget(self.prompt, 1)
        ask.addWidget(self.send_button)
        override = QHBoxLayout()
        override.addWidget(self.reason, 1)
        override.addWidget(self.send_anyway_button)
        decide = QHBoxLayout()
        for button in (self.cancel_button, self.discard_button, self.approve_button):
            decide.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.chapter)
        layout.addLayout(ask)
        layout.addWidget(self.flags)
        layout.addLayout(override)
        layout.addWidget(self.preview, 1)
        layout.addLayout(decide)
        layout.addWidget(self.note)
        layout.addWidget(self.shown)
        layout.addWidget(self.end_button)

        self.screened = ""
        self.send_button.clicked.connect(self._send)
        self.prompt.returnPressed.connect(self._send)
        self.prompt.textEdited.connect(lambda _: self.clear_flags())
        self.reason.textChanged.connect(self._update_override)
        self.send_anyway_button.clicked.connect(
            lambda: self.send_anyway_requested.emit(self.screened, self.reason.text().strip())
        )
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.approve_button.clicked.connect(self.approve_requested)
        self.discard_button.clicked.connect(self.discard_requested)
        self.end_button.clicked.connect(self.end_requested)
        self.clear_flags()
        self.set_busy(busy=False, decidable=False)

    def _send(self) -> None:
        if self.send_button.isEnabled():
            self.send_requested.emit(self.prompt.text().strip())

    def set_flags(self, prompt: str, reasons: Sequence[str]) -> None:
        """Screening flagged ``prompt``: say why, and offer Send Anyway with a reason."""
        self.screened = prompt
        self.flags.setText(
            "Screening flagged this prompt:\n" + "\n".join(f"• {r}" for r in reasons) + "\n"
            "Change it, or give a reason to send it anyway."
        )
        self.flags.show()
        self.reason.show()
        self.send_anyway_button.show()
        self._update_override()

    def clear_flags(self) -> None:
        self.screened = ""
        self.flags.clear()
        self.flags.hide()
        self.reason.clear()
        self.reason.hide()
        self.send_anyway_button.hide()

    def _update_override(self) -> None:
        self.send_anyway_button.setEnabled(
            bool(self.screened)
            and bool(self.reason.text().strip())
            and self.send_button.isEnabled()
        )

    def set_busy(self, *, busy: bool, decidable: bool) -> None:
        """While a generation streams: only Stop. After it: Approve && Show / Discard."""
        self.send_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.approve_button.setEnabled(decidable and not busy)
        self.discard_button.setEnabled(decidable and not busy)
        self._update_override()

    def start_stream(self) -> None:
        self.preview.clear()
        self.clear_flags()
        self.set_busy(busy=True, decidable=False)

    def append(self, text: str) -> None:
        cursor = self.preview.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self.preview.setTextCursor(cursor)

    def say(self, text: str, *, error: bool = False) -> None:
        self.note.setStyleSheet("color: #D55E00" if error else "")
        self.note.setText(text)
