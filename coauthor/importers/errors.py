"""The error importers raise: one sentence naming the file and what is wrong with it."""

from __future__ import annotations


class ImportFailed(Exception):
    """A source cannot be imported; nothing has been written."""
