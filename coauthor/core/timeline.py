"""The writing history as a timeline: a chapter's (or the book's) text at any event.

A ``Timeline`` takes the text events of the record in order (``ProjectFile.events``), once, and
keeps a checkpoint of each chapter's text and runs every ``every`` events of that chapter. The
text after any event is then the nearest checkpoint before it plus a replay of at most
``every - 1`` events, whatever the length of the history: with 100,000 events of one chapter
and ``every`` 500, any point costs one ``ProvenanceText.from_runs`` and a few hundred
``apply_event`` calls (``bench/history.py`` prints the figures).

``restore_window`` finds the smallest stretch to replace so that a chapter's text and origins
become those of a past state: restoring a version is then one ordinary edit that puts that
stretch back with its runs, naming the past state as its source.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from coauthor.core.history import META, RESTORE, EditEvent, apply_event
from coauthor.core.origin import Origin
from coauthor.core.provenance import ProvenanceText, Run

__all__ = [
    "CHECKPOINT_EVERY",
    "ChapterTrack",
    "RestoreWindow",
    "Timeline",
    "describe_event",
    "restore_window",
]

CHECKPOINT_EVERY = 500
"""Events of a chapter between two checkpoints of its text: any point replays fewer."""


class ChapterTrack:
    """One chapter's text events, with a checkpoint of its text every ``every`` of them."""

    __slots__ = ("_checkpoints", "_live", "chapter", "events", "every", "seqs")

    def __init__(self, chapter: int, every: int = CHECKPOINT_EVERY) -> None:
        if every < 1:
            raise ValueError("checkpoints need at least one event between them")
        self.chapter = chapter
        self.every = every
        self.events: list[EditEvent] = []
        self.seqs: list[int] = []
        self._live = ProvenanceText()
        # Checkpoint k: the text and runs after the first k * every events.
        self._checkpoints: list[tuple[str, tuple[Run, ...]]] = [("", ())]

    def __len__(self) -> int:
        return len(self.events)

    def append(self, event: EditEvent) -> None:
        """Add the chapter's next text event (raises ``ReplayError`` if it does not apply)."""
        apply_event(self._live, event)
        self.events.append(event)
        self.seqs.append(event.seq)
        if len(self.events) % self.every == 0:
            live = self._live
            self._checkpoints.append((live.text, tuple(live.runs())))

    def count_at(self, seq: int) -> int:
        """How many of the chapter's events have a sequence number up to ``seq``."""
        return bisect_right(self.seqs, seq)

    def text_after(self, count: int) -> ProvenanceText:
        """The chapter's text and origins after its first ``count`` events (a new object)."""
        count = max(0, min(count, len(self.events)))
        if count == len(self.events):
            return self._live.copy()
        k = count // self.every
        text, runs = self._checkpoints[k]
        result = ProvenanceText.from_runs(text, runs)
        for event in self.events[k * self.every : count]:
            apply_event(result, event)
        return result


class Timeline:
    """The text events of a scope (one chapter, or the whole book) in order.

    Position ``p`` is the state after the first ``p`` events of the scope (0: before any).
    Meta events (chapters added, reviews, …) are not steps of the timeline; they are skipped.
    """

    def __init__(self, *, every: int = CHECKPOINT_EVERY, chapter: int | None = None) -> None:
        self.every = every
        self.chapter = chapter
        """The one chapter this timeline follows (None: every chapter of the book)."""
        self.events: list[EditEvent] = []
        self.tracks: dict[int, ChapterTrack] = {}
        self.last_seq = 0
        """The last event read (text or not): a refresh reads the events after it."""

    @classmethod
    def build(
        cls,
        events: Iterable[EditEvent],
        *,
        chapter: int | None = None,
        every: int = CHECKPOINT_EVERY,
    ) -> Timeline:
        timeline = cls(every=every, chapter=chapter)
        timeline.extend(events)
        return timeline

    def __len__(self) -> int:
        return len(self.events)

    def extend(self, events: Iterable[EditEvent]) -> int:
        """Add the events that follow the last one read; return how many steps were added."""
        before = len(self.events)
        for event in events:
            if event.seq <= self.last_seq:
                continue
            self.last_seq = event.seq
            if event.kind == META or (self.chapter is not None and event.chapter != self.chapter):
                continue
            track = self.tracks.get(event.chapter)
            if track is None:
                track = self.tracks[event.chapter] = ChapterTrack(event.chapter, self.every)
            track.append(event)
            self.events.append(event)
        return len(self.events) - before

    def event_at(self, position: int) -> EditEvent | None:
        """The event that leads to ``position`` (None at position 0)."""
        return self.events[position - 1] if 0 < position <= len(self.events) else None

    def chapter_at(self, position: int) -> int | None:
        """The chapter shown at ``position``: the followed one, or the one its event edited."""
        if self.chapter is not None:
            return self.chapter
        event = self.event_at(position)
        return event.chapter if event is not None else None

    def seq_at(self, position: int) -> int:
        """The sequence number of the record's state at ``position`` (0: before any event)."""
        event = self.event_at(position)
        return event.seq if event is not None else 0

    def position_of(self, seq: int) -> int:
        """The position of the record's state after event ``seq``."""
        return bisect_right(self.events, seq, key=_seq)

    def text_at(self, position: int, chapter: int | None = None) -> ProvenanceText:
        """A chapter's text and origins at ``position`` (``chapter`` defaults to
        ``chapter_at``; a chapter with no event yet is empty)."""
        chapter = self.chapter_at(position) if chapter is None else chapter
        track = self.tracks.get(chapter) if chapter is not None else None
        if track is None:
            return ProvenanceText()
        return track.text_after(track.count_at(self.seq_at(position)))

    def insertions(self) -> Iterator[tuple[int, EditEvent]]:
        """Each generation's first insertion in this scope: (position after it, event)."""
        seen: set[str] = set()
        for index, event in enumerate(self.events):
            if event.origin is Origin.AI and event.inserted and event.ref not in seen:
                seen.add(event.ref or "")
                yield index + 1, event


def _seq(event: EditEvent) -> int:
    return event.seq


_VERBS = {
    Origin.HUMAN: "typed",
    Origin.AI: "inserted from a generation",
    Origin.PASTED: "pasted",
    Origin.IMPORTED: "imported",
}


def describe_event(event: EditEvent) -> str:
    """What an event did, in a few words: "typed 12 characters at 340"."""

    def chars(n: int) -> str:
        return f"{n:,} character{'s' if n != 1 else ''}"

    inserted, deleted = len(event.inserted), len(event.deleted)
    if event.kind == RESTORE and inserted:
        what = f"put back {chars(inserted)} with their origins"
    elif inserted:
        verb = _VERBS.get(event.origin, "inserted") if event.origin else "inserted"
        what = f"{verb} {chars(inserted)}"
        if event.origin is Origin.AI and event.ref:
            what = f"inserted {chars(inserted)} of generation {event.ref}"
    else:
        what = ""
    if deleted:
        removal = f"deleted {chars(deleted)}"
        what = f"{removal}, {what}" if what else removal
    return f"{what or 'no change'} at {event.pos:,}"


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of two strings (compared in slices, in C)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _same_origins(a: Iterable[Run], b: Iterable[Run], limit: int) -> int:
    """How far (up to ``limit``) two run sequences give every character the same origin."""
    ia, ib = iter(a), iter(b)
    ra, rb = next(ia, None), next(ib, None)
    left_a = ra[0] if ra else 0
    left_b = rb[0] if rb else 0
    pos = 0
    while pos < limit and ra is not None and rb is not None:
        if ra[1] is not rb[1] or ra[2] != rb[2]:
            return pos
        step = min(left_a, left_b)
        pos += step
        left_a -= step
        left_b -= step
        if not left_a:
            ra = next(ia, None)
            left_a = ra[0] if ra else 0
        if not left_b:
            rb = next(ib, None)
            left_b = rb[0] if rb else 0
    return min(pos, limit)


@dataclass(frozen=True)
class RestoreWindow:
    """Replace ``current[start:current_end]`` by ``past[start:past_end]`` (with its runs)."""

    start: int
    current_end: int
    past_end: int


def restore_window(current: ProvenanceText, past: ProvenanceText) -> RestoreWindow | None:
    """The smallest stretch whose replacement turns ``current`` into ``past``, text and origins
    alike; None if they are equal. What is around it stays as it is (and keeps its place in
    the undo history and in the record)."""
    a, b = current.text, past.text
    runs_a, runs_b = list(current.runs()), list(past.runs())
    shorter = min(len(a), len(b))
    prefix = _common_prefix(a, b)
    prefix = _same_origins(runs_a, runs_b, prefix)
    if prefix == len(a) == len(b):
        return None
    room = shorter - prefix
    suffix = _common_prefix(a[::-1], b[::-1]) if room else 0
    suffix = min(suffix, room)
    suffix = _same_origins(reversed(runs_a), reversed(runs_b), suffix)
    return RestoreWindow(prefix, len(a) - suffix, len(b) - suffix)
