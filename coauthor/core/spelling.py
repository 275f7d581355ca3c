"""Spell checking without Qt: which words of a line to check, the dictionaries, the word lists.

``words`` finds the words of one line of a manuscript, skipping what is not prose: Markdown
markers, code spans, URLs, e-mail addresses, link destinations, raw HTML, footnote and
attribute markers, and tokens with digits or underscores (code, dates, ordinals).

The dictionaries are Hunspell's, reached through Enchant (``pyenchant`` over the system's
``libenchant-2``): a lookup takes 17-39 microseconds and a dictionary opens in a tenth of a
second, where the pure-Python ``spylls`` took about 3x as long per lookup, 16-22x as long to
open and 9x as long per suggestion (docs/architecture.md, "Spell check"). Answers are cached
per word, so checking a screen again costs dictionary look-ups only for the words typed since.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

__all__ = [
    "Dictionary",
    "SpellChecker",
    "WordList",
    "dictionary_tag",
    "normalise",
    "open_dictionary",
    "shift_spans",
    "words",
]

# What is not prose, found before the words so the words inside are skipped. Code spans are a
# backtick string closed by one of the same length (CommonMark); an unclosed one is literal.
_SKIP = re.compile(
    r"""
      ^\s{0,3}(?:```|~~~).*                                   # a code fence and its info string
    | (?<!`)(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)        # `code span`
    | (?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)[^\s<>()\[\]]+      # a URL, to the first space or bracket
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                            # an e-mail address
    | \]\([^)\s]*(?:\s+"[^"]*")?\)                            # a link's (destination "title")
    | ^\s{0,3}\[[^\]]+\]:\s*\S+                               # a link reference definition
    | </?[A-Za-z][^<>]*>                                      # raw HTML, an autolink
    | &\#?\w+;                                                # an HTML entity
    | \[\^[^\]]*\]                                            # a footnote marker [^note]
    | \{[#.][^}]*\}                                           # an attribute list {#id .class}
    """,
    re.VERBOSE,
)
# A token: letters, digits and underscores, with apostrophes inside (``don't``, ``o’clock``).
_TOKEN = re.compile(r"\w+(?:['’]\w+)*")
_NOT_PROSE = re.compile(r"[\d_]")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'"})


def words(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each word of ``text`` (one line) to check, in code points.

    Hyphenated words are checked part by part (``well-known``: ``well``, ``known``), as the
    ``-`` separates tokens. Single letters and words in capitals (acronyms) are not checked.
    """
    skipped: list[tuple[int, int]] = [m.span() for m in _SKIP.finditer(text)]
    found: list[tuple[int, int]] = []
    s = 0
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        while s < len(skipped) and skipped[s][1] <= start:
            s += 1
        if s < len(skipped) and skipped[s][0] < end:
            continue  # inside (or overlapping) something that is not prose
        token = match.group()
        # Emphasis with underscores (``_word_``, ``__word__``): the markers are not the word.
        if token[0] == "_" or token[-1] == "_":
            stripped = token.strip("_")
            if not stripped:
                continue
            start += token.index(stripped)
            end = start + len(stripped)
            token = stripped
        if _NOT_PROSE.search(token) or len(token) < 2 or token.isupper():
            continue
        found.append((start, end))
    return found


def normalise(word: str) -> str:
    """The form a word is looked up and listed in: NFC, typographic apostrophes as ``'``."""
    return unicodedata.normalize("NFC", word).translate(_APOSTROPHES)


def dictionary_tag(language: str) -> str:
    """A book's language (``en``, ``en-GB``, ``pt_br``) as a dictionary tag (``en_GB``)."""
    parts = re.split(r"[-_]", language.strip())
    if not parts or not parts[0]:
        return ""
    head = parts[0].lower()
    if len(parts) > 1 and len(parts[1]) == 2:
        return f"{head}_{parts[1].upper()}"
    return head


class Dictionary(Protocol):
    """What the checker needs of a dictionary (``enchant.Dict`` has it)."""

    tag: str

    def check(self, word: str) -> bool: ...
    def suggest(self, word: str) -> list[str]: ...


# The region chosen for a language given without one, when several are installed.
_DEFAULT_REGION = {"en": "en_US", "pt": "pt_BR", "es": "es_ES", "de": "de_DE", "fr": "fr_FR"}


def open_dictionary(language: str) -> Dictionary | None:
    """The installed dictionary for a book's language: its exact tag, or for a language alone
    (``en``) its usual region or any installed one; None if none is installed (or Enchant is
    not: ``libenchant-2``)."""
    tag = dictionary_tag(language)
    if not tag:
        return None
    try:
        import enchant  # the C library is loaded here: Coauthor starts without it
        from enchant.errors import Error as EnchantError
    except ImportError as exc:  # the module, or libenchant-2 it loads
        logger.warning("Spell checking is unavailable: %s", exc)
        return None
    try:
        available = enchant.list_languages()
        candidates = [tag]
        if "_" not in tag:
            regional = sorted(t for t in available if t.split("_")[0] == tag)
            default = _DEFAULT_REGION.get(tag, f"{tag}_{tag.upper()}")
            candidates += sorted(regional, key=lambda t: t != default)
        for candidate in candidates:
            if candidate in available or enchant.dict_exists(candidate):
                return enchant.Dict(candidate)
    except EnchantError as exc:
        logger.warning("The dictionary for %s could not be opened: %s", language, exc)
    return None


@dataclass
class WordList:
    """Words accepted as spelled right: the author's own (a file of one word a line, as
    Hunspell's personal dictionaries are) or a book's (kept in its project file)."""

    words: set[str] = field(default_factory=set)
    path: Path | None = None

    @classmethod
    def load(cls, path: Path) -> WordList:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("The word list %s could not be read: %s", path, exc)
            text = ""
        return cls({normalise(w.strip()) for w in text.splitlines() if w.strip()}, path)

    def __contains__(self, word: object) -> bool:
        return word in self.words

    def add(self, word: str) -> None:
        """Add a word and write the file, if any (atomically: a temporary file renamed)."""
        self.words.add(normalise(word))
        if self.path is not None:
            _write_atomically(self.path, "".join(f"{w}\n" for w in sorted(self.words)))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_CACHE_WORDS = 200_000
"""Words whose answer is remembered; past that the cache starts again (about 20 MB)."""


class SpellChecker:
    """A dictionary and the word lists that overrule it, with each word's answer cached."""

    def __init__(self, dictionary: Dictionary, *lists: WordList) -> None:
        self.dictionary = dictionary
        self.lists = list(lists)
        self._known: dict[str, bool] = {}

    def forget(self) -> None:
        """A word list changed: ask again."""
        self._known.clear()

    def is_correct(self, word: str) -> bool:
        known = self._known.get(word)
        if known is not None:
            return known
        key = normalise(word)
        correct = any(key in wl for wl in self.lists) or self._check(key)
        if not correct and word[0].isupper() and word[1:].islower():
            # A capitalised word at a sentence's start: the author's list has it lower case.
            lower = key.lower()
            correct = any(lower in wl for wl in self.lists)
        if len(self._known) >= _CACHE_WORDS:
            self._known.clear()
        self._known[word] = correct
        return correct

    def _check(self, word: str) -> bool:
        try:
            return self.dictionary.check(word)
        except ValueError:  # Enchant refuses some strings (too long, unencodable)
            return True

    def misspelled(self, text: str) -> list[tuple[int, int]]:
        """The ``(start, end)`` of each misspelled word of one line, in code points."""
        check = self.is_correct
        return [(s, e) for s, e in words(text) if not check(text[s:e])]

    def suggest(self, word: str, limit: int = 6) -> list[str]:
        try:
            found = self.dictionary.suggest(normalise(word))
        except ValueError:
            return []
        return list(dict.fromkeys(found))[:limit]


def shift_spans(
    spans: Iterable[tuple[int, int]], start: int, old_end: int, new_end: int
) -> list[tuple[int, int]]:
    """Spans of a line after ``[start, old_end)`` became ``[start, new_end)``: those before the
    edit stay, those after it move, and those touching it (the word being typed) go."""
    delta = new_end - old_end
    out = []
    for s, e in spans:
        if e < start:
            out.append((s, e))
        elif s > old_end:
            out.append((s + delta, e + delta))
    return out
