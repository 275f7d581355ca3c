"""Text from a book, made safe to show in a terminal.

A book's text and titles may hold any character, including ESC and the other C0 and C1
control characters a terminal takes as commands (colours, cursor moves, window titles,
hyperlinks, even writing to the clipboard). The command line never prints them raw where a
person reads it: ``escape_controls`` shows each as ``\\xHH`` (``\\x1b`` for ESC), keeping
newline and tab. ``coauthor cat`` and ``replay`` print the exact text when their output is
not a terminal (a pipe or a file), so ``coauthor cat book.coauthor --chapter 1 > ch1.txt``
still gives the chapter byte for byte.
"""

from __future__ import annotations

import re

__all__ = ["escape_controls", "escape_json_controls", "is_terminal"]

# C0 controls but tab and newline, DEL and the C1 controls (U+0080 to U+009F).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What JSON (with ensure_ascii=False) leaves raw: DEL and the C1 controls.
_JSON_CONTROLS = re.compile("[\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """``text`` with every control character but newline and tab written as ``\\xHH``."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def escape_json_controls(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``, which escapes C0 itself) with DEL
    and the C1 controls as ``\\u00HH`` escapes: the same JSON, safe in a terminal."""
    return _JSON_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def is_terminal(stream: object) -> bool:
    """Whether ``stream`` is a terminal (False for anything without ``isatty``)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False
