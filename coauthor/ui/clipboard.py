"""Text crossing the app's edge: the private clipboard format, and cleaning outside text.

Inside Coauthor, cut, copy, paste and drag carry a fragment with its runs under a private MIME
type, with plain text alongside for other applications. The private format carries a random
token of the running app (kept in memory only) and the source of the text in the record
(``coauthor.core.project.Source``): a payload without this session's token is outside text,
and the project itself refuses a source it does not hold, so no other program can make text
arrive as typed or generated. Text from outside is cleaned before it
reaches the book: NUL and other C0 controls (except tab and newline) are dropped, lone
surrogates become U+FFFD and line endings become ``\\n``.
"""

from __future__ import annotations

import json
import re
import secrets

from PySide6.QtCore import QMimeData

from coauthor.core.origin import Origin
from coauthor.core.project import Source
from coauthor.core.provenance import Fragment

__all__ = [
    "MIME_FRAGMENT",
    "PASTE_LIMIT_CHARS",
    "PASTE_PROGRESS_CHARS",
    "clean_outside_text",
    "fragment_from_mime",
    "fragment_to_mime",
]

MIME_FRAGMENT = "application/x-coauthor-fragment"

PASTE_LIMIT_CHARS = 20_000_000
"""Larger pastes are refused with a message pointing to File > Import (documented in the README)."""
PASTE_PROGRESS_CHARS = 500_000
"""Pastes above this size show a busy indicator while they are inserted."""

_SESSION_TOKEN = secrets.token_hex(16)
"""This running app's token for its private clipboard format: never written anywhere."""

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_outside_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2029", "\n")
    text = _CONTROL.sub("", text)
    return _SURROGATE.sub("\ufffd", text)


def fragment_to_mime(fragment: Fragment, project_key: str, source: Source = ()) -> QMimeData:
    mime = QMimeData()
    mime.setText(fragment.text)
    payload = {
        "token": _SESSION_TOKEN,
        "project": project_key,
        "text": fragment.text,
        "runs": [[n, origin.value, ref] for n, origin, ref in fragment.runs],
        "source": [list(piece) for piece in source],
    }
    mime.setData(
        MIME_FRAGMENT, json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")
    )
    return mime


def fragment_from_mime(mime: QMimeData, project_key: str) -> tuple[Fragment, Source] | None:
    """The fragment carried by ``mime`` and its source, if this running app put it there for
    this project; else None (the text is then outside text)."""
    if not mime.hasFormat(MIME_FRAGMENT):
        return None
    try:
        payload = json.loads(
            bytes(mime.data(MIME_FRAGMENT).data()).decode("utf-8", "surrogatepass")
        )
        if not secrets.compare_digest(str(payload.get("token", "")), _SESSION_TOKEN):
            return None
        if payload.get("project") != project_key:
            return None
        runs = tuple(
            (int(n), Origin(o), None if r is None else str(r)) for n, o, r in payload["runs"]
        )
        source = tuple(
            (int(c), int(a), int(s), int(n)) for c, a, s, n in payload.get("source") or ()
        )
        return Fragment(str(payload["text"]), runs), source
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
