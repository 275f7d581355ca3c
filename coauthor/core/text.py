"""Text entering the core is valid Unicode: surrogate halves joined, lone ones replaced.

Python strings may hold lone surrogates (a model's stream split inside a pair, a clipboard,
a damaged file); SQLite cannot store them and no export may carry them. ``valid_unicode``
joins pairs split across pieces and turns any lone half into U+FFFD; ``valid_value`` does the
same for every string inside a JSON-like value (a generation's messages and parameters).
"""

from __future__ import annotations

import re

__all__ = ["clean_field", "valid_unicode", "valid_value"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def valid_unicode(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def valid_value(value: object) -> object:
    """A copy of ``value`` (str, list, tuple, dict) whose strings are all ``valid_unicode``."""
    if isinstance(value, str):
        return valid_unicode(value)
    if isinstance(value, dict):
        return {valid_value(k): valid_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [valid_value(v) for v in value]
    return value


def clean_field(text: str, *, multiline: bool = False) -> str:
    """A title or a detail of the book: valid Unicode without NUL or other control characters
    (a terminal escape in a chapter title must not reach a terminal or an export). Line
    breaks and tabs stay in a ``multiline`` field; in a one-line field they become spaces."""
    text = valid_unicode(text)
    if multiline:
        return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _LINE_CONTROLS.sub(lambda m: " " if m.group() in "\t\n\r" else "", text)
