"""The author's reasoned overrides of flagged passages, matched by the passage's text hash."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from coauthor.core.policy import Flag

__all__ = ["apply_overrides"]


def apply_overrides(
    flags: Iterable[Flag], overrides: Mapping[str, tuple[str, str, int]]
) -> list[Flag]:
    """Flags with the author's recorded override filled in where one exists for that text.

    ``overrides`` maps a passage's ``text_hash`` to ``(reason, by, at)``. An override without
    a reason is not an override, and an edited passage has a new hash, so its old override
    no longer applies.
    """
    result: list[Flag] = []
    for flag in flags:
        recorded = overrides.get(flag.text_hash) if flag.text_hash else None
        if recorded is not None and recorded[0].strip():
            reason, by, at = recorded
            flag = replace(flag, override=reason.strip(), override_by=by, override_at=at)
        result.append(flag)
    return result
