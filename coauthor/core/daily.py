"""Writing by day, from the history: words written by origin, deletions, time and sessions.

What counts, exactly (the Statistics view, ``coauthor stats --by-day`` and the CSV say the
same):

- **Words written** come from fresh-text events (``EDIT``: typed, accepted from the model,
  pasted, imported), by the origin of the inserted text. A word is a stretch of non-space
  characters (``str.split``, as everywhere else). Text inserted exactly where the previous
  insertion into that chapter ended, with no space between, continues the word already counted
  (typing is recorded in bursts, which often end inside a word); the word is counted once, for
  the origin that started it. Text inserted into the middle of a word already in the chapter
  counts as a word.
- **Restored** characters are text put back with its recorded origins (``RESTORE``: undo, redo,
  moving text): never new writing.
- **Deleted** characters are every character a change removed (deletions, replacements, undo
  of an insertion), reported apart: the words written are not reduced by them.
- **Time writing** adds up the gaps between consecutive changes made in the editor when a gap
  is at most ``SESSION_GAP_MS``; a longer gap (or a clock that went back) starts a new
  **session**. Imports are not editing and take no time. A burst of typing is recorded at its
  first keystroke, so a session's last seconds of typing are not counted.

The history is summarised once into ``Segment`` s (a quarter of an hour of UTC each: every
time zone in use is a whole number of quarter hours from UTC, so a segment falls within one
local day anywhere) and the summary grows with each new event, so it is never recomputed.
This is the record of what was done in this program: tamper-evident, not proof that a person
typed what the record calls typed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from coauthor.core.history import EDIT, RESTORE, EditEvent
from coauthor.core.origin import Origin

__all__ = [
    "SESSION_GAP_MS",
    "SLOT_MS",
    "DayFigures",
    "GoalProgress",
    "Goals",
    "Tally",
    "by_day",
    "daily_csv",
    "event_row",
    "goal_progress",
    "read_tally_record",
    "streak",
    "tally_record",
]

SESSION_GAP_MS = 5 * 60 * 1000
"""A pause longer than this (five minutes) between two changes ends a writing session."""
SLOT_MS = 15 * 60 * 1000
"""The summary's unit of time: a quarter of an hour of UTC."""

ORIGIN_ORDER: tuple[Origin, ...] = (Origin.HUMAN, Origin.AI, Origin.PASTED, Origin.IMPORTED)
"""The origins in the order of every table and of the CSV's columns."""
_INDEX = {origin.code: i for i, origin in enumerate(ORIGIN_ORDER)}
_TAIL = 64  # characters remembered before each chapter's insertion point
_VERSION = 1

Row = tuple[int, int, str, int, int, str | None, str | None, int]
"""An event as the summary reads it: seq, chapter, kind, pos, time, origin code, inserted
text, number of deleted characters (``store.activity`` selects exactly these columns)."""

# A segment's fields, in order (a list, so that feeding an event changes it in place).
_SLOT, _GAP, _STARTS = 0, 1, 2
_WORDS = 3  # four counts by origin, ORIGIN_ORDER
_CHARS = 7  # four counts by origin
_DELETED, _RESTORED, _EVENTS = 11, 12, 13
_SEGMENT_FIELDS = 14
_NO_SLOT = -(2**63)  # before any segment: no time falls in it


def event_row(event: EditEvent) -> Row:
    """The summary's row of a history event."""
    return (
        event.seq,
        event.chapter,
        event.kind,
        event.pos,
        event.time,
        event.origin.code if event.origin is not None else None,
        event.inserted,
        len(event.deleted),
    )


@dataclass
class Tally:
    """The running summary of a history: fed events in order, it never reads one twice.

    ``seq`` is the last event fed; ``segments`` hold, per stretch of events within one
    quarter hour, the figures of ``by_day``. JSON round-trips it (the summary is cached
    between runs, keyed by the chain hash of event ``seq``).
    """

    seq: int = 0
    segments: list[list[int]] = field(default_factory=list)
    last_timed: int | None = None
    """When the last change made in the editor was recorded (for the next gap)."""
    tails: dict[int, tuple[int, str]] = field(default_factory=dict)
    """Per chapter: where the last insertion ended and the characters known before there."""

    def feed(self, rows: Iterable[Row]) -> None:
        """Add events (in the order of the history, after ``seq``) to the summary."""
        # The hot loop of a first summary (500,000 events): locals only, and the insertion
        # point of the chapter being written kept in two locals while its events follow on.
        segments = self.segments
        segment = segments[-1] if segments else [_NO_SLOT]
        tails = self.tails
        last_timed = self.last_timed
        index = _INDEX
        gap_max = SESSION_GAP_MS
        seq = self.seq
        current = None  # the chapter whose insertion point is in tail_pos and known
        tail_pos = -1  # -1: not known
        known = ""  # the characters known to be just before tail_pos
        for seq, chapter, kind, pos, when, origin, inserted, deleted in rows:  # noqa: B007
            if kind != EDIT and kind != RESTORE:  # noqa: PLR1714 - the hot loop
                continue
            if chapter != current:
                if current is not None:
                    if tail_pos < 0:
                        tails.pop(current, None)
                    else:
                        tails[current] = (tail_pos, known)
                tail_pos, known = tails.get(chapter, (-1, ""))
                current = chapter
            slot = when // SLOT_MS
            if segment[0] != slot:
                segment = [slot, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
                segments.append(segment)
            segment[_EVENTS] += 1
            if origin != "i":  # an import is not time spent editing
                if last_timed is not None and 0 <= when - last_timed <= gap_max:
                    segment[_GAP] += when - last_timed
                else:
                    segment[_STARTS] += 1
                last_timed = when
            if deleted:
                segment[_DELETED] += deleted
                if tail_pos >= 0:
                    if pos + deleted == tail_pos:  # backspace from the insertion point
                        tail_pos = pos
                        known = known[:-deleted] if deleted < len(known) else ""
                        if not known:
                            tail_pos = -1
                    elif pos < tail_pos:
                        if pos + deleted <= tail_pos - len(known):
                            tail_pos -= deleted
                        else:
                            tail_pos = -1
            if inserted:
                n = len(inserted)
                continues = tail_pos == pos
                if kind == RESTORE:
                    segment[_RESTORED] += n
                    continues = False
                else:
                    i = index[origin or "h"]  # fresh text always has an origin
                    segment[_CHARS + i] += n
                    words = len(inserted.split())
                    if (
                        words
                        and continues
                        and not known[-1].isspace()
                        and not inserted[0].isspace()
                    ):
                        words -= 1  # the word the previous insertion started goes on
                    segment[_WORDS + i] += words
                known = (known + inserted)[-_TAIL:] if continues else inserted[-_TAIL:]
                tail_pos = pos + n
        if current is not None:
            if tail_pos < 0:
                tails.pop(current, None)
            else:
                tails[current] = (tail_pos, known)
        self.seq = seq
        self.last_timed = last_timed

    def feed_events(self, events: Iterable[EditEvent]) -> None:
        self.feed(event_row(e) for e in events if e.seq > self.seq)

    # -- the cache -------------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": _VERSION,
                "slot_ms": SLOT_MS,
                "gap_ms": SESSION_GAP_MS,
                "seq": self.seq,
                "last_timed": self.last_timed,
                "tails": [[c, p, t] for c, (p, t) in self.tails.items()],
                "segments": self.segments,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, data: str) -> Tally | None:
        """The summary ``to_json`` wrote, or None if it is of another version or damaged (a
        count below zero, a field missing or of the wrong type)."""
        try:
            raw = json.loads(data)
            if (raw["version"], raw["slot_ms"], raw["gap_ms"]) != (
                _VERSION,
                SLOT_MS,
                SESSION_GAP_MS,
            ):
                return None
            segments = [[_integer(v) for v in s] for s in raw["segments"]]
            if any(len(s) != _SEGMENT_FIELDS or min(s[_GAP:]) < 0 for s in segments):
                return None
            last = raw["last_timed"]
            tails = {_integer(c): (_integer(p), t) for c, p, t in raw["tails"]}
            seq = _integer(raw["seq"])
            if seq < 0 or any(
                p < 0 or not isinstance(t, str) or len(t) > _TAIL for p, t in tails.values()
            ):
                return None
            return cls(
                seq=seq,
                segments=segments,
                last_timed=None if last is None else _integer(last),
                tails=tails,
            )
        except (ValueError, KeyError, TypeError):
            return None

    def copy(self) -> Tally:
        """A copy that feeding leaves this one as it is (feeding changes only the last
        segment in place, and the insertion points)."""
        segments = self.segments[:]
        if segments:
            segments[-1] = segments[-1][:]
        return Tally(self.seq, segments, self.last_timed, dict(self.tails))

    def same_figures(self, other: Tally) -> bool:
        """Whether both hold the same figures and would count the next events alike.

        ``seq`` is left out: fed whole events, a summary ends at the last event whatever its
        kind; fed the statistics' rows, at the last text event.
        """
        return (self.segments, self.last_timed, self.tails) == (
            other.segments,
            other.last_timed,
            other.tails,
        )


def _integer(value: object) -> int:
    """An integer of a summary read back (not a float, a string or a boolean)."""
    if type(value) is not int:
        raise TypeError(f"{value!r} is not an integer")
    return value


def tally_record(tally: Tally, digest: bytes) -> str:
    """The summary as it is kept (in the project file and in the user's cache), with the
    chain hash of its last event: it applies only to a history that still ends that way."""
    return json.dumps({"hash": digest.hex(), "tally": tally.to_json()})


def read_tally_record(data: str) -> tuple[Tally, bytes] | None:
    """What ``tally_record`` wrote (None if it is damaged or of another version)."""
    try:
        raw = json.loads(data)
        tally = Tally.from_json(raw["tally"])
        digest = bytes.fromhex(raw["hash"])
    except (ValueError, KeyError, TypeError):
        return None
    return None if tally is None else (tally, digest)


@dataclass(frozen=True)
class DayFigures:
    """One local day's writing (see the module's docstring for what each figure counts)."""

    date: dt.date
    words: dict[Origin, int]
    """Words written, by origin."""
    chars: dict[Origin, int]
    """Characters of fresh text inserted, by origin."""
    deleted: int
    """Characters removed."""
    restored: int
    """Characters put back with their origins (undo, moves): not new writing."""
    sessions: int
    """Writing sessions that started this day."""
    seconds: int
    """Time writing, in whole seconds (the gaps of at most five minutes between changes)."""

    @property
    def words_total(self) -> int:
        return sum(self.words.values())


def by_day(tally: Tally, tz: dt.tzinfo | None = None) -> list[DayFigures]:
    """The summary per local day (``tz``; the computer's own zone when None), oldest first;
    days without a change are left out, and so are changes dated outside the years 1-9999."""
    days: dict[dt.date, list[int]] = {}
    dates: dict[int, dt.date] = {}
    for segment in tally.segments:
        slot = segment[_SLOT]
        date = dates.get(slot)
        if date is None:
            try:
                date = dt.datetime.fromtimestamp(slot * SLOT_MS / 1000, tz).date()
            except (OverflowError, OSError, ValueError):
                continue  # a time no calendar day holds (a clock or a file gone wrong)
            dates[slot] = date
        sums = days.get(date)
        if sums is None:
            days[date] = list(segment)
        else:
            for i in range(_GAP, _SEGMENT_FIELDS):
                sums[i] += segment[i]
    return [
        DayFigures(
            date,
            {o: s[_WORDS + i] for i, o in enumerate(ORIGIN_ORDER)},
            {o: s[_CHARS + i] for i, o in enumerate(ORIGIN_ORDER)},
            s[_DELETED],
            s[_RESTORED],
            s[_STARTS],
            s[_GAP] // 1000,
        )
        for date, s in sorted(days.items())
    ]


CSV_HEADER = (
    "date",
    "words typed",
    "words from the model",
    "words pasted",
    "words imported",
    "characters typed",
    "characters from the model",
    "characters pasted",
    "characters imported",
    "characters deleted",
    "characters restored",
    "sessions",
    "minutes writing",
)


def daily_csv(days: Sequence[DayFigures], newline: str = "\r\n") -> str:
    """The days as CSV, one row a day, oldest first (RFC 4180's CRLF line ends unless
    ``newline`` says otherwise; no cell holds a comma or a quote)."""
    lines = [",".join(CSV_HEADER)]
    for day in days:
        cells = [
            day.date.isoformat(),
            *(str(day.words[o]) for o in ORIGIN_ORDER),
            *(str(day.chars[o]) for o in ORIGIN_ORDER),
            str(day.deleted),
            str(day.restored),
            str(day.sessions),
            f"{day.seconds / 60:.1f}",
        ]
        lines.append(",".join(cells))
    return newline.join(lines) + newline


# -- goals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goals:
    """The author's targets: words typed a day, the book's length in words, and by when."""

    daily_words: int = 0
    """0: no daily goal."""
    book_words: int = 0
    """0: no goal for the book."""
    deadline: dt.date | None = None

    @property
    def any(self) -> bool:
        return bool(self.daily_words or self.book_words)


def streak(days: Sequence[DayFigures], today: dt.date, daily_words: int) -> int:
    """Days in a row, up to today, on which the author typed at least ``daily_words`` words
    (at least one when there is no daily goal). Today counts once it is reached; until then
    the streak is the one that ended yesterday."""
    need = max(1, daily_words)
    met = {d.date for d in days if d.words[Origin.HUMAN] >= need}
    day = today if today in met else today - dt.timedelta(days=1)
    count = 0
    while day in met:
        count += 1
        day -= dt.timedelta(days=1)
    return count


@dataclass(frozen=True)
class GoalProgress:
    typed_today: int
    daily_words: int
    book_words: int
    book_goal: int
    deadline: dt.date | None
    days_left: int | None
    """Days from today to the deadline, both counted (None without a deadline)."""
    per_day_needed: int | None
    """Words a day still needed to reach the book goal by the deadline."""
    streak: int

    def status_text(self) -> str:
        """The status bar's goal figure, short (``details`` says it in full)."""
        parts = [
            f"Typed today {self.typed_today:,}/{self.daily_words:,}"
            if self.daily_words
            else f"Typed today {self.typed_today:,}"
        ]
        if self.book_goal:
            parts.append(f"book {self.book_words:,}/{self.book_goal:,}")
        if self.streak:
            parts.append(f"streak {self.streak}")
        return " · ".join(parts)

    def details(self) -> str:
        """What ``status_text`` stands for, in sentences (its tooltip)."""
        lines = [
            f"You typed {self.typed_today:,} words today"
            + (f", of a daily goal of {self.daily_words:,}." if self.daily_words else ".")
        ]
        if self.book_goal:
            lines.append(f"The book has {self.book_words:,} of its {self.book_goal:,} words.")
        if self.deadline is not None and self.days_left is not None:
            if self.days_left <= 0:
                lines.append(f"The deadline, {self.deadline.isoformat()}, has passed.")
            elif self.per_day_needed is not None:
                lines.append(
                    f"{self.per_day_needed:,} words a day reach it by "
                    f"{self.deadline.isoformat()} ({self.days_left} days, today included)."
                )
        days = f"{self.streak} day{'s' if self.streak != 1 else ''}"
        lines.append(
            f"Streak: {days} in a row reaching the daily goal."
            if self.daily_words
            else f"Streak: {days} in a row with some typing."
        )
        lines.append("Words typed come from the history; Book ▸ Writing Goals sets the goals.")
        return "\n".join(lines)


def goal_progress(
    goals: Goals, days: Sequence[DayFigures], book_words: int, today: dt.date
) -> GoalProgress:
    """Where the author stands against ``goals`` today (``days`` from ``by_day``)."""
    typed = next((d.words[Origin.HUMAN] for d in days if d.date == today), 0)
    days_left = None
    needed = None
    if goals.deadline is not None:
        days_left = (goals.deadline - today).days + 1
        if goals.book_words and days_left > 0:
            remaining = max(0, goals.book_words - book_words)
            needed = -(-remaining // days_left)
    return GoalProgress(
        typed,
        goals.daily_words,
        book_words,
        goals.book_words,
        goals.deadline,
        days_left,
        needed,
        streak(days, today, goals.daily_words),
    )
