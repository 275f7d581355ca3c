"""The book: metadata, ordered titled chapters, and the records of imports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from coauthor.core.origin import Origin
from coauthor.core.provenance import ProvenanceText


@dataclass
class BookMeta:
    """What the book says about itself; exported as its metadata and attribution."""

    title: str = "Untitled"
    author: str = ""
    company: str = ""
    language: str = "en"
    subtitle: str = ""
    description: str = ""
    rights: str = ""
    synopsis: str = ""
    notes: str = ""
    foreword: str = ""
    """The author's rewording of the foreword; empty to use the one generated from the figures."""
    foreword_table: str = "yes"
    """"yes" to add a table of roles per chapter to the foreword."""
    cover: str = ""
    """Path of the cover image, if any."""
    present_notice: str = ""
    """A second line for the banner of Present mode, e.g. "This application has not yet been
    approved for launch"; empty for none."""

    def to_dict(self) -> dict[str, str]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> BookMeta:
        known = {k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def empty_counts() -> dict[Origin, int]:
    return dict.fromkeys(Origin, 0)


@dataclass(eq=False)
class Chapter:
    """A titled chapter: its provenance text, its markup and its process measure.

    ``markup`` says how exports read the text: ``markdown`` (the author's manuscript: emphasis,
    scene breaks, quotations and lists are rendered) or ``plain`` (text that was not written
    as Markdown, such as a plain-text file or a CoAuthor session: every character is shown as
    it is, blank lines separate paragraphs and a single newline is a line break). It is
    recorded in the chapter's ``chapter-add`` event and changed only by a ``chapter-markup``
    event.

    ``process`` counts the characters freshly inserted into this chapter over its whole
    history, by origin (typed, accepted from the model, pasted, imported), including those
    deleted since. Moving text around does not count.
    """

    id: int
    title: str
    text: ProvenanceText = field(default_factory=ProvenanceText)
    process: dict[Origin, int] = field(default_factory=empty_counts)
    markup: str = "markdown"


MARKUPS = ("markdown", "plain")
"""How a chapter's text is read (``Chapter.markup``)."""


@dataclass
class ImportRecord:
    """Where imported text came from, and whether the author declares it their own writing."""

    id: str
    source: str
    kind: str
    own_writing: bool
    encoding: str = "utf-8"
    sha256: str = ""
    time: int = 0
    details: dict[str, object] = field(default_factory=dict)

    def to_record(self) -> dict[str, object]:
        """Everything the chain records about the import."""
        return dict(self.__dict__)

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> ImportRecord:
        details = record.get("details")
        return cls(
            id=str(record["id"]),
            source=str(record.get("source", "")),
            kind=str(record.get("kind", "")),
            own_writing=bool(record.get("own_writing", False)),
            encoding=str(record.get("encoding", "utf-8")),
            sha256=str(record.get("sha256", "")),
            time=int(record.get("time") or 0),  # type: ignore[arg-type]
            details=dict(details) if isinstance(details, Mapping) else {},
        )
