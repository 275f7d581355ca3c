"""The spell checker's Qt-free part: which words of a line are checked, the word lists, the
dictionary lookup with its cache, and underlines carried over an edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from coauthor.core.spelling import (
    SpellChecker,
    WordList,
    dictionary_tag,
    normalise,
    open_dictionary,
    shift_spans,
    words,
)

pytestmark = pytest.mark.core


def checked(text: str) -> list[str]:
    return [text[s:e] for s, e in words(text)]


def test_prose_words_are_checked() -> None:
    assert checked("The tide clock kept the town.") == [
        "The",
        "tide",
        "clock",
        "kept",
        "the",
        "town",
    ]


def test_markdown_markers_are_not_words() -> None:
    assert checked("## A *sea* of **salt** and _spray_ and __foam__") == [
        "sea",
        "of",
        "salt",
        "and",
        "spray",
        "and",
        "foam",
    ]
    assert checked("> - quoted list item") == ["quoted", "list", "item"]
    assert checked("1. numbered \\*escaped") == ["numbered", "escaped"]


def test_code_spans_are_skipped_and_an_unclosed_backtick_is_literal() -> None:
    assert checked("call `fnord(x)` or ``a ` b`` now") == ["call", "or", "now"]
    assert checked("a lone ` backtick here") == ["lone", "backtick", "here"]


def test_urls_and_email_addresses_are_skipped() -> None:
    text = "See https://exmaple.org/pathh?q=zz, www.qwzx.com and ann@exmaple.co.uk today."
    assert checked(text) == ["See", "and", "today"]


def test_link_destinations_html_and_markers_are_skipped_but_link_text_is_not() -> None:
    text = '[the lightt](https://x.y/zzq "Tittle") <span clas="q">inside</span> &nbsp; [^nott]'
    assert checked(text) == ["the", "lightt", "inside"]
    assert checked("[ref]: https://zzq.example/qq") == []
    assert checked("# Heading {#hedd .klass}") == ["Heading"]
    assert checked("```pythonn") == []


def test_digits_underscores_acronyms_and_single_letters_are_not_checked() -> None:
    assert checked("3rd x2 snake_case NASA a I go") == ["go"]


def test_apostrophes_and_hyphens() -> None:
    assert checked("don’t rock'n'roll well-known") == ["don’t", "rock'n'roll", "well", "known"]
    assert normalise("don’t") == "don't"


def test_positions_are_code_points() -> None:
    text = "🌊 wavez"
    assert words(text) == [(2, 7)]


@pytest.mark.parametrize(
    ("language", "tag"),
    [("en", "en"), ("en-GB", "en_GB"), ("pt_br", "pt_BR"), ("de-DE-1996", "de_DE"), ("", "")],
)
def test_dictionary_tags(language: str, tag: str) -> None:
    assert dictionary_tag(language) == tag


def test_word_list_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "spelling" / "words.txt"
    words_ = WordList.load(path)
    assert not words_.words
    words_.add("Maraq")
    words_.add("o’clockish")
    assert path.read_text(encoding="utf-8") == "Maraq\no'clockish\n"
    assert "Maraq" in WordList.load(path)


class FakeDictionary:
    tag = "xx"

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.calls: list[str] = []

    def check(self, word: str) -> bool:
        self.calls.append(word)
        return word in self.known

    def suggest(self, word: str) -> list[str]:
        return sorted(self.known, key=lambda w: w != word.lower())


def test_checker_uses_the_lists_and_caches_each_word() -> None:
    dictionary = FakeDictionary({"the", "tide", "clock"})
    book = WordList({"Maraq"})
    checker = SpellChecker(dictionary, book, WordList())
    text = "the tidde clock Maraq the tidde"
    assert [text[s:e] for s, e in checker.misspelled(text)] == ["tidde", "tidde"]
    assert dictionary.calls == ["the", "tidde", "clock"]  # Maraq is listed; repeats are cached
    book.add("tidde")
    checker.forget()
    assert checker.misspelled(text) == []


def test_a_capitalised_word_is_accepted_when_listed_in_lower_case() -> None:
    checker = SpellChecker(FakeDictionary(set()), WordList({"zorbing"}))
    assert checker.is_correct("Zorbing")
    assert not checker.is_correct("ZorBing")


def test_underlines_move_past_an_edit_and_the_touched_word_goes() -> None:
    spans = [(0, 3), (10, 15), (20, 24)]
    # "xx" typed at 12 (inside the second word): it goes, the third moves by 2.
    assert shift_spans(spans, 12, 12, 14) == [(0, 3), (22, 26)]
    # A character typed right after the first word touches it.
    assert shift_spans(spans, 3, 3, 4) == [(10 + 1, 15 + 1), (21, 25)]
    # Deleting 5..7 (between words) moves the later ones left.
    assert shift_spans(spans, 5, 7, 5) == [(0, 3), (8, 13), (18, 22)]


def test_the_installed_english_dictionary() -> None:
    dictionary = open_dictionary("en")
    if dictionary is None:
        pytest.skip("no English Hunspell dictionary (scripts/system-deps.sh installs one)")
    checker = SpellChecker(dictionary)
    text = "The tide clock kept the towne, didn’t it?"
    assert [text[s:e] for s, e in checker.misspelled(text)] == ["towne"]
    assert "town" in checker.suggest("towne")
    assert open_dictionary("xx-QQ") is None
