"""The PNG card of Share Passage: the labelled passage as an image for social media.

The card is ``CARD_WIDTH`` pixels wide and as tall as its text: the label at the top on a band
of the AI origin colour (white bold type, the first thing a reader sees), the passage with each
stretch of model text on a tint of that colour *and* underlined (so the marking does not rest on
colour alone), a legend line in the same marking ("Marked: drafted by a language model
(MODEL)"), and the attribution at the bottom. A passage without model text has no band and no
legend. Passages longer than ``CARD_LIMIT_CHARS`` are refused (``card_refusal``): a card is
read at a glance, and text that long is better shared as text.

It is drawn with Qt (``QTextDocument`` onto a ``QImage``) and needs a ``QGuiApplication``:
``ensure_gui_application`` makes one, offscreen when there is no display, for the command line.
Qt is imported only inside these functions, so the other commands never load it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from coauthor.publish.labels import COLOURS
from coauthor.publish.share import AI_CLOSE, AI_OPEN, SharedText

if TYPE_CHECKING:
    from PySide6.QtGui import QGuiApplication, QImage

__all__ = [
    "AI_TINT",
    "CARD_LIMIT_CHARS",
    "CARD_WIDTH",
    "card_label",
    "card_png",
    "card_refusal",
    "ensure_gui_application",
    "render_card",
]

CARD_WIDTH = 1200
CARD_LIMIT_CHARS = 1500
"""The longest passage a card holds (characters of the passage, without label or attribution)."""

_MARGIN = 64
_BAND = COLOURS["ai"]


def card_label(label: str) -> str:
    """The text form's label as the card states it: the card marks the model's text by tint
    and underline, not by ``[AI]`` marks."""
    return label.replace(
        f"the parts between {AI_OPEN} and {AI_CLOSE}", "the tinted, underlined parts"
    )


def _mix(colour: str, share: float) -> str:
    """``colour`` at ``share`` over white, as #rrggbb (an opaque tint: exact in every pixel)."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * share):02x}" for c in rgb)


AI_TINT = _mix(COLOURS["ai"], 0.22)
"""The background of the model's text on the card."""

_KEPT: list[QGuiApplication] = []
"""The application made here, kept alive for the rest of the process."""


def ensure_gui_application() -> None:
    """A ``QGuiApplication`` for drawing: the running one, or a new one (offscreen when there is
    no display, as on a server or in a terminal without one)."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        return
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _KEPT.append(QGuiApplication(["coauthor"]))


def _passage_length(shared: SharedText) -> int:
    return sum(len(text) for text, _ in shared.segments)


def card_refusal(shared: SharedText) -> str | None:
    """Why the passage cannot be a card (too long), in one sentence; None when it can."""
    length = _passage_length(shared)
    if length <= CARD_LIMIT_CHARS:
        return None
    return (
        f"The passage has {length:,} characters and a card holds up to {CARD_LIMIT_CHARS:,}: "
        "select a shorter passage for an image, or share it as text."
    )


def render_card(shared: SharedText) -> QImage:
    """The card of ``shared`` (see the module docstring). Raises ``ValueError`` with
    ``card_refusal``'s sentence for a passage too long for a card."""
    from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
    from PySide6.QtGui import (
        QColor,
        QFont,
        QImage,
        QPainter,
        QTextCharFormat,
        QTextCursor,
        QTextDocument,
        QTextOption,
    )

    refusal = card_refusal(shared)
    if refusal is not None:
        raise ValueError(refusal)
    ensure_gui_application()
    inner = CARD_WIDTH - 2 * _MARGIN

    def document(size: float, *, bold: bool = False, italic: bool = False) -> QTextDocument:
        doc = QTextDocument()
        font = QFont("DejaVu Serif" if not bold else "DejaVu Sans")
        font.setStyleHint(QFont.StyleHint.Serif if not bold else QFont.StyleHint.SansSerif)
        font.setPixelSize(round(size))
        font.setBold(bold)
        font.setItalic(italic)
        doc.setDefaultFont(font)
        doc.setDocumentMargin(0)
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        doc.setDefaultTextOption(option)
        doc.setTextWidth(inner)
        return doc

    marked = QTextCharFormat()
    marked.setBackground(QColor(AI_TINT))
    marked.setFontUnderline(True)
    marked.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
    marked.setUnderlineColor(QColor(COLOURS["ai"]))
    plain = QTextCharFormat()
    ink = QColor("#1a1a1a")
    plain.setForeground(ink)
    marked.setForeground(ink)

    label = None
    if shared.label:
        label = document(30, bold=True)
        cursor = QTextCursor(label)
        white = QTextCharFormat()
        white.setForeground(QColor("#ffffff"))
        cursor.insertText(card_label(shared.label), white)

    passage = document(30)
    cursor = QTextCursor(passage)
    for text, is_ai in shared.segments:
        cursor.insertText(text, marked if is_ai else plain)
    if not shared.segments:
        cursor.insertText(" ", plain)

    legend = None
    if shared.label:
        legend = document(24)
        cursor = QTextCursor(legend)
        cursor.insertText("Marked", marked)
        models = ", ".join(shared.models) or "model not recorded"
        cursor.insertText(f": drafted by a language model ({models})", plain)

    attribution = document(26, italic=True)
    cursor = QTextCursor(attribution)
    grey = QTextCharFormat()
    grey.setForeground(QColor("#444444"))
    cursor.insertText(shared.attribution, grey)
    attribution.setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignRight))
    attribution.setTextWidth(inner)

    band_height = 0.0
    if label is not None:
        band_height = label.size().height() + 2 * 40
    y = band_height + _MARGIN
    passage_at = y
    y += passage.size().height() + 48
    legend_at = y
    if legend is not None:
        y += legend.size().height() + 32
    attribution_at = y
    y += attribution.size().height() + _MARGIN

    image = QImage(CARD_WIDTH, round(y), QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)

        def draw(doc: QTextDocument, top: float) -> None:
            painter.save()
            painter.translate(QPointF(_MARGIN, top))
            doc.drawContents(painter, QRectF(QPointF(0, 0), QSizeF(inner, doc.size().height())))
            painter.restore()

        if label is not None:
            painter.fillRect(QRectF(0, 0, CARD_WIDTH, band_height), QColor(_BAND))
            draw(label, 40)
        draw(passage, passage_at)
        if legend is not None:
            painter.fillRect(QRectF(_MARGIN, legend_at - 16, inner, 2), QColor(COLOURS["human"]))
            draw(legend, legend_at)
        draw(attribution, attribution_at)
    finally:
        painter.end()
    return image


def card_png(shared: SharedText) -> bytes:
    """The card as PNG bytes (what is written and hashed)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    image = render_card(shared)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # pyright: ignore[reportCallIssue, reportArgumentType]
        raise OSError("Qt could not encode the card as PNG")
    buffer.close()
    return bytes(data.data())
