"""The PySide6 desktop application: main window, editor, highlighter, docks and dialogs."""

from __future__ import annotations

import sys


def _guard_none_refcount() -> None:
    """Work around PySide6 6.12.0 on Python < 3.12 dropping a reference to ``None``.

    Every PySide6 6.12.0 call that returns nothing (``setText``, ``update``, every
    ``QPainter`` call…) takes one reference from ``None`` without giving one; ``None`` is
    immortal only from Python 3.12, so on 3.11 the process aborts ("none_dealloc") once the
    references run out, after a minute or so of typing. 6.11 does not do this. When the leak
    is seen, ``None`` gets references enough for any session. Remove once 6.12.0 is excluded.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import ctypes

    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(8):
        probe.setObjectName("probe")
    if sys.getrefcount(None) <= before - 8:
        ctypes.c_ssize_t.from_address(id(None)).value += 1 << 48


_guard_none_refcount()
