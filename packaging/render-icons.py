"""Render the app icon's PNGs from its SVG with Qt (run after changing the SVG):

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render-icons.py

writes ``resources/icons/org.coauthor.Coauthor-{48,128,256}.png`` beside the SVG.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
APP_ID = "org.coauthor.Coauthor"
SIZES = (48, 128, 256)


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / f"{APP_ID}.svg"))
    if not renderer.isValid():
        print(f"cannot read {ICONS / f'{APP_ID}.svg'}", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = ICONS / f"{APP_ID}-{size}.png"
        if not image.save(str(target)):
            print(f"cannot write {target}", file=sys.stderr)
            return 1
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
