"""The offline phrase checker, passages, text hashes and overrides: no network involved.

Each category has positive examples; fiction that depicts violence, elections and the like
must not flag. Known false positives are pinned too, so a change in what the lists catch is a
deliberate one. The rule lists in ``docs/content-screening.md`` must match the code.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from coauthor.core.book import BookMeta, Chapter
from coauthor.core.policy import CATEGORIES, Flag, check_gate
from coauthor.core.project import Project
from coauthor.core.provenance import ProvenanceText
from coauthor.importers import apply, parse_source
from coauthor.screening import offline as offline_module
from coauthor.screening.offline import OfflineScreener
from coauthor.screening.overrides import apply_overrides
from coauthor.screening.passages import Passage, passages_from_chapters, split_passages, text_hash
from coauthor.screening.prefilter import _FOLD, _folded, _prefilter
from coauthor.screening.rules import OFFLINE_DESCRIPTION, OFFLINE_RULES
from coauthor.screening.screen import OPENAI_UNCOVERED, screen

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "content-screening.md"

CHECKER = OfflineScreener()

POSITIVES = [
    # political campaigning
    ("Vote for Jane Doe on Tuesday!", "political-campaigning", "Vote for"),
    ("Please vote against Proposition 9.", "political-campaigning", "vote against"),
    ("Re-elect Mayor Brown.", "political-campaigning", "Re-elect"),
    ("Vote Smith for Senate.", "political-campaigning", "Vote Smith for Senate"),
    ("Donate to our campaign today.", "political-campaigning", "Donate to our campaign"),
    (
        "Give $25 to the campaign before midnight.",
        "political-campaigning",
        "Give $25 to the campaign",
    ),
    ("Join our campaign and knock on doors.", "political-campaigning", "Join our campaign"),
    (
        "Paid for by the Committee to Elect Jane Doe.",
        "political-campaigning",
        "Paid for by the Committee",
    ),
    (
        "I'm Jane Doe and I approve this message.",
        "political-campaigning",
        "and I approve this message",
    ),
    # spam
    ("Buy now! Limited time offer, click here.", "spam", "Buy now, Limited time offer, click here"),
    ("See http://a.example http://b.example www.c.example", "spam", "http://a.example"),
    ("Free money for everyone who signs up.", "spam", "Free money"),
    ("Earn $500 a day from your kitchen table.", "spam", "Earn $500 a day"),
    ("Congratulations, you have won!", "spam", "Congratulations, you have won"),
    ("THIS IS THE BEST DEAL YOU WILL EVER SEE ANYWHERE", "spam", "THIS IS THE BEST DEAL"),
    # sexual
    ("They had oral sex in the car.", "sexual", "oral sex"),
    ("The scene described sexual intercourse in detail.", "sexual", "sexual intercourse"),
    ("He described the orgasm.", "sexual", "orgasm"),
    ("A drawing of a penis.", "sexual", "penis"),
    ("It was pornography, nothing else.", "sexual", "pornography"),
    ("Sexual contact with a minor is a crime.", "sexual", "Sexual contact with a minor"),
    # hate
    ("Those refugees are vermin.", "hate", "Those refugees are vermin"),
    ("All of them are animals.", "hate", "All of them are animals"),
    ("He called them subhuman.", "hate", "subhuman"),
    ("They should be exterminated.", "hate", "should be exterminated"),
    ("Go back to where you came from!", "hate", "Go back to where you came from"),
    ("They were an inferior race, he said.", "hate", "inferior race"),
    # harassment
    ("Go kill yourself.", "harassment", "kill yourself"),
    ("You are worthless.", "harassment", "You are worthless"),
    ("You're a waste of space.", "harassment", "You're a waste of space"),
    ("Nobody would miss you.", "harassment", "Nobody would miss you"),
    ("Everyone hates you.", "harassment", "Everyone hates you"),
    ("You deserve to die.", "harassment", "You deserve to die"),
    ("I know where you live.", "harassment", "I know where you live"),
    # violence or incitement
    ("Kill them all!", "violence", "Kill them all"),
    ("Let's burn it down.", "violence", "Let's burn it down"),
    ("Let\N{RIGHT SINGLE QUOTATION MARK}s burn down the town hall.", "violence", "burn down"),
    ("Attack the embassy at dawn.", "violence", "Attack the embassy"),
    ("We should bomb the bridge.", "violence", "We should bomb the"),
    ("Death to the tyrant!", "violence", "Death to the tyrant"),
    ("Rise up and kill the oppressors.", "violence", "Rise up and kill"),
    # self-harm
    ("How do I kill myself?", "self-harm", "How do I kill myself"),
    ("how to commit suicide", "self-harm", "how to commit suicide"),
    ("Ten ways to self-harm without anyone noticing.", "self-harm", "ways to self-harm"),
    ("You should hurt yourself.", "self-harm", "You should hurt yourself"),
    ("What is the most painless way to die?", "self-harm", "most painless way to die"),
    ("Daily thinspiration for you.", "self-harm", "thinspiration"),
    # other social harm
    ("Here is how to make a bomb at home.", "other-harm", "how to make a bomb"),
    ("Step one: synthesize meth in a shed.", "other-harm", "synthesize meth"),
    ("We steal credit card numbers at the till.", "other-harm", "steal credit card numbers"),
    ("This is how to launder money.", "other-harm", "how to launder money"),
    ("Buy fentanyl online, no questions.", "other-harm", "Buy fentanyl online"),
]

NEGATIVES = [
    "He killed the dragon.",
    "The campaign against Napoleon was long and cold.",
    "She voted with her feet.",
    "The committee voted for the proposal.",
    "He was re-elected in 1820.",
    "They elected a new pope.",
    "I think I will vote for her.",
    "He asked her to vote for him, but she laughed.",
    "The dinner was paid for by his father.",
    "She bombed the exam.",
    "The bomb the soldiers carried was heavy.",
    "Click here, she said, pointing at the map.",
    '"NO!" he shouted. "NO, NO!"',
    "NASA and the FBI met the CIA.",
    "He stabbed the guard and fled into the night.",
    "The army attacked the castle at dawn.",
    "She wanted to die, she thought, but the morning came.",
    "She cut herself on the broken glass.",
    "He made a bomb joke at dinner.",
    "The minor characters were underdeveloped.",
    "The children played in the street.",
    "Death of the king was announced at noon.",
    "They kissed, and the door closed behind them.",
    "The shop had a sign: buy now, pay later.",
    "Visit https://example.com for the map.",
    "The hate in his eyes frightened her.",
    "Everyone loves you, said her mother.",
    "It was how to kill time that bothered him.",
]

KNOWN_FALSE_POSITIVES = [
    # Fine in fiction, flagged all the same: the reason the override exists.
    ('"Vote for me," the candidate begged the empty hall.', "political-campaigning"),
    ("Those soldiers are animals, the old woman whispered.", "hate"),
    ('"Kill them all!" cried the orc captain.', "violence"),
]


@pytest.mark.parametrize(("text", "category", "phrase"), POSITIVES)
def test_each_rule_catches_its_examples(text: str, category: str, phrase: str) -> None:
    hits = CHECKER.check(text)
    assert category in {h.category for h in hits}, hits
    assert any(phrase.lower() in h.phrase.lower() for h in hits if h.category == category), hits
    assert all(h.source == "offline" for h in hits)


def test_every_category_has_positives_and_rules() -> None:
    assert list(CATEGORIES) == [
        "political-campaigning",
        "sexual",
        "spam",
        "hate",
        "harassment",
        "violence",
        "self-harm",
        "other-harm",
    ]
    assert {category for _, category, _ in POSITIVES} == set(CATEGORIES)
    assert {rule.category for rule in OFFLINE_RULES} == set(CATEGORIES)
    # every rule is exercised by at least one positive example
    for rule in OFFLINE_RULES:
        assert any(
            len(rule.pattern.findall(text.replace("\N{RIGHT SINGLE QUOTATION MARK}", "'")))
            >= rule.min_count
            for text, _, _ in POSITIVES
        ), rule.description


@pytest.mark.parametrize("text", NEGATIVES)
def test_fiction_does_not_flag(text: str) -> None:
    assert CHECKER.check(text) == []


@pytest.mark.parametrize(("text", "category"), KNOWN_FALSE_POSITIVES)
def test_known_false_positives_flag(text: str, category: str) -> None:
    assert category in {h.category for h in CHECKER.check(text)}


def test_counted_rules_need_repetition() -> None:
    assert CHECKER.check("Click here for the map.") == []
    assert [h.category for h in CHECKER.check("Click here. Click here!")] == ["spam"]
    assert CHECKER.check("See http://a.example and http://b.example") == []


def test_phrases_span_line_breaks_and_ignore_case() -> None:
    hits = CHECKER.check("and then\nKILL THEM\n  ALL, he said")
    assert [(h.category, h.phrase) for h in hits] == [("violence", "KILL THEM ALL")]


def test_check_can_be_limited_to_categories() -> None:
    text = "Vote for me! Kill them all!"
    assert {h.category for h in CHECKER.check(text)} == {"political-campaigning", "violence"}
    assert [h.category for h in CHECKER.check(text, ["political-campaigning", "spam"])] == [
        "political-campaigning"
    ]


def test_hit_reason_names_label_and_phrase() -> None:
    (hit,) = CHECKER.check("Nobody would miss you.")
    assert hit.reason == "Harassment: “Nobody would miss you” (offline phrase list)"


def test_checker_is_deterministic() -> None:
    text = "Vote for me. Those people are vermin. Buy now, buy now!"
    assert CHECKER.check(text) == OfflineScreener().check(text) == CHECKER.check(text)


# -- the prefilter --------------------------------------------------------------------------
#
# ``CHECKER`` runs a rule only on passages holding the words its pattern needs; ``FULL`` runs
# every rule on every passage. Their hits must be the same, phrase for phrase and in order.

FULL = OfflineScreener(prefilter=False)

OTHER_EXAMPLES = [
    # the other texts of this file
    "Click here for the map.",
    "Click here. Click here!",
    "See http://a.example and http://b.example",
    "and then\nKILL THEM\n  ALL, he said",
    "Vote for me! Kill them all!",
    "Vote for me. Those people are vermin. Buy now, buy now!",
    'He killed the dragon.\n\n"Kill them all!" cried the captain.\n\nVote for me. Buy now!',
    "Kill them all! Vote for me! You are worthless.",
    'Calm opening.\n\n"Kill them all!" cried the orc.',
    "Kill them all.",
]

EDGE_EXAMPLES = [
    # white space, apostrophes and the characters re.IGNORECASE matches to ASCII letters
    "kill\tthem\n\n  all",
    "Let\N{MODIFIER LETTER APOSTROPHE}s burn it down.",
    "Let\N{LEFT SINGLE QUOTATION MARK}s burn it to the ground.",
    "you\N{RIGHT SINGLE QUOTATION MARK}re a waste of oxygen",
    "TH\N{LATIN CAPITAL LETTER I WITH DOT ABOVE}NSPIRATION",
    "th\N{LATIN SMALL LETTER DOTLESS I}nspo",
    "\N{LATIN SMALL LETTER LONG S}ubhuman",
    "\N{KELVIN SIGN}ILL THEM ALL",
    "\N{KELVIN SIGN}YS",
    "REELECT the mayor. Re-Elect him!",
    "vote \n\t for the party",
    "Vote   Smith\tfor\nCongress",
    "BUY NOW. Click\nHere!",
    "https://a.example https://b.example www.c.example",
    "DO NOT READ THIS VERY LONG LINE OF SHOUTING WORDS NOW",
    "Sub-human, SUBHUMAN, subhuman.",
]

EXAMPLES = [
    *(text for text, _, _ in POSITIVES),
    *NEGATIVES,
    *(text for text, _ in KNOWN_FALSE_POSITIVES),
    *OTHER_EXAMPLES,
    *EDGE_EXAMPLES,
]

CATEGORY_CHOICES: list[Iterable[str] | None] = [
    None,
    OPENAI_UNCOVERED,
    *([category] for category in CATEGORIES),
]


def disagreements(checker: OfflineScreener, texts: Iterable[str]) -> list[str]:
    """The texts on which ``checker`` and ``FULL`` differ, for any choice of categories."""
    return [
        text
        for text in texts
        if any(checker.check(text, c) != FULL.check(text, c) for c in CATEGORY_CHOICES)
    ]


@pytest.fixture(scope="module")
def pride_passages() -> list[str]:
    """The passages of Pride and Prejudice, imported as the app imports it (61 chapters)."""
    project = Project(BookMeta(title="Pride and Prejudice", author="Jane Austen"))
    apply(project, parse_source(REPO / "data" / "pride_and_prejudice.txt"))
    assert len(project.chapters) == 61
    return [passage.text for passage in passages_from_chapters(project.chapters)]


def test_prefilter_agrees_on_pride_and_prejudice(pride_passages: list[str]) -> None:
    assert len(pride_passages) > 1000
    for text in pride_passages:
        assert CHECKER.check(text) == FULL.check(text), text
    # and with an example that flags put in the middle of each passage
    flagging = [text for text in EXAMPLES if FULL.check(text)]
    for index, text in enumerate(pride_passages):
        cut = text.find(" ", len(text) // 2) + 1
        mixed = f"{text[:cut]}{flagging[index % len(flagging)]} {text[cut:]}"
        assert CHECKER.check(mixed) == FULL.check(mixed), mixed


def test_prefilter_agrees_on_every_example() -> None:
    assert disagreements(CHECKER, EXAMPLES) == []
    assert disagreements(CHECKER, ["\n\n".join(EXAMPLES), " ".join(EXAMPLES)]) == []


def test_a_wrongly_skipped_rule_is_caught() -> None:
    """For every rule: a prefilter that never lets it run fails the comparison above."""
    for index, rule in enumerate(OFFLINE_RULES):
        broken = OfflineScreener()
        broken._needs = tuple(
            (("\N{REPLACEMENT CHARACTER}never",),) if i == index else needs
            for i, needs in enumerate(broken._needs)
        )
        assert disagreements(broken, EXAMPLES), rule.description


_LOOKALIKES = {"i": "\u0130\u0131", "s": "\u017f", "k": "\u212a"}
_SPACES = st.text(alphabet=" \t\n\r\u00a0\u2003", min_size=1, max_size=4)
_PIECES = [
    *(text for text, _, _ in POSITIVES),
    *(text for text, _ in KNOWN_FALSE_POSITIVES),
    *EDGE_EXAMPLES,
    *sorted({word for rule in OFFLINE_RULES for need in _prefilter(rule.pattern) for word in need}),
    *sorted({word for text, _, _ in POSITIVES for word in text.split()}),
    *".,!?;:\"\u201c\u201d()-$/'\u2018\u2019\u02bc",
    "http://",
    "www.",
    "...",
]


@st.composite
def screening_texts(draw: st.DrawFn) -> str:
    """Trigger words, example phrases and punctuation, with their letters' case changed (to
    look-alikes too), their spaces made runs of any white space and their apostrophes varied."""
    pieces = draw(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8))
    out: list[str] = []
    for piece in pieces:
        out.append(draw(st.sampled_from(["", " ", "\n\n", ". ", ", ", '"']) | _SPACES))
        for char in piece:
            if char == " ":
                out.append(draw(st.just(" ") | _SPACES))
            elif char in "'\u2018\u2019\u02bc":
                out.append(draw(st.sampled_from("'\u2018\u2019\u02bc")))
            elif char.isalpha():
                lower = char.lower()
                out.append(
                    draw(st.sampled_from([char, char.upper(), lower, *_LOOKALIKES.get(lower, "")]))
                )
            else:
                out.append(char)
    return "".join(out)


@settings(max_examples=5 * settings().max_examples)
@given(screening_texts(), st.sampled_from(CATEGORY_CHOICES))
def test_prefilter_agrees_on_generated_texts(text: str, categories: Iterable[str] | None) -> None:
    assert CHECKER.check(text, categories) == FULL.check(text, categories)


def test_generated_texts_catch_a_wrongly_skipped_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated texts flag, and some are only read right folded by ``_folded`` (not by
    ``str.lower``): a prefilter that skips rules, or folds wrongly, fails the test above."""
    quiet = settings(
        max_examples=2000, database=None, derandomize=True, phases=[Phase.generate]
    )  # finding one is enough: no shrinking
    skip_all = OfflineScreener()
    skip_all._needs = tuple((("\N{REPLACEMENT CHARACTER}",),) for _ in skip_all._needs)
    find(screening_texts(), lambda text: skip_all.check(text) != FULL.check(text), settings=quiet)
    monkeypatch.setattr(offline_module, "_folded", str.lower)
    find(screening_texts(), lambda text: CHECKER.check(text) != FULL.check(text), settings=quiet)


def test_folding_keeps_every_case_insensitive_match_of_an_ascii_character() -> None:
    """Every code point ``re.IGNORECASE`` matches to an ASCII character folds to it, lowercase.

    ``_folded`` treats each character on its own (``str.translate`` and ``str.lower`` do), so
    this is what makes an ASCII word ``re`` finds in a text, ignoring case, a substring of the
    folded text.
    """
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    beyond_ascii = set()
    for code in range(128):
        char = chr(code)
        for match in re.finditer(re.escape(char), everything, re.IGNORECASE):
            assert _folded(match.group()) == char.lower(), hex(match.start())
            if match.start() >= 128:
                beyond_ascii.add(match.group())
    assert beyond_ascii == {chr(code) for code in _FOLD}


@pytest.mark.parametrize(
    ("pattern", "needs"),
    [
        (r"\bvote (?:for|against)\b", [{"vote"}, {"for", "against"}]),
        (r"\b(?:kill yourself|kys)\b", [{"yourself", "kys"}]),  # "k" begins both
        (r"\bsub-?human\b", [{"sub"}, {"human"}]),
        (r"\b(?:penis|penises|vulva)\b", [{"penis", "vulva"}]),  # "penises" has "penis"
        (r"\bkill (?:them|'em) all\b|\bkill every one\b", [{"kill"}]),
        (r"\bporn(?:ography|o|s)?\b", [{"porn"}]),
        (r"(?:foo)+bar(?:baz)*", [{"foo"}, {"bar"}]),  # "baz" may be absent
        (r"(?:^|\bgo )vote", [{"vote"}]),  # an alternative without words: no set from there
        (r"(?-i:Shout) out", [{"shout"}, {"out"}]),
        (r"(?=danger)\w+", []),  # a look-ahead's text is not part of the match
        (r"\b(?:[A-Z][A-Z']+[!?.,]* ){7,}", []),  # no literal words: the rule always runs
        (r"\bto (?:a|an) ox\b", []),  # words under three letters are not tested
        (r"\bcaf\u00e9 au lait\b", [{"caf"}, {"lait"}]),  # non-ASCII literals end a word
    ],
)
def test_prefilter_reads_the_words_a_match_needs(pattern: str, needs: list[set[str]]) -> None:
    compiled = re.compile(pattern.replace(" ", r"\s+"), re.IGNORECASE | re.MULTILINE)
    assert {frozenset(need) for need in _prefilter(compiled)} == {frozenset(n) for n in needs}


def test_only_the_shouting_rule_always_runs() -> None:
    """Every other rule has words a passage must hold (a new rule without any is fine, only
    slower on every passage: list it here)."""
    assert [rule.description for rule in OFFLINE_RULES if not _prefilter(rule.pattern)] == [
        "shouting: eight or more words in a row in capitals"
    ]


# -- passages -------------------------------------------------------------------------------

CHAPTER_TEXT = "  First paragraph.\nSame paragraph.\n\n\n   Second one.  \n \t\nThird ✨ 𝄞 one.\n"


def test_passages_are_paragraphs_with_code_point_positions() -> None:
    passages = split_passages(7, CHAPTER_TEXT)
    assert [p.text for p in passages] == [
        "First paragraph.\nSame paragraph.",
        "Second one.",
        "Third ✨ 𝄞 one.",
    ]
    for passage in passages:
        assert passage.chapter_id == 7
        assert CHAPTER_TEXT[passage.start : passage.end] == passage.text
    assert passages[0].start == 2


def test_passages_from_chapters() -> None:
    chapters = [
        Chapter(1, "One", ProvenanceText("Alpha.\n\nBeta.")),
        Chapter(2, "Two", ProvenanceText("")),
        Chapter(5, "Five", ProvenanceText("Gamma.")),
    ]
    assert passages_from_chapters(chapters) == [
        Passage(1, 0, 6, "Alpha."),
        Passage(1, 8, 13, "Beta."),
        Passage(5, 0, 6, "Gamma."),
    ]


@given(st.text(alphabet="ab \n\t✨𝄞", max_size=80))
def test_passages_slice_the_text_and_cover_it(text: str) -> None:
    passages = split_passages(1, text)
    covered = set()
    previous_end = -1
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.text == passage.text.strip()
        assert passage.text
        assert not re.search(r"\n[ \t]*\n", passage.text)
        assert passage.start > previous_end
        previous_end = passage.end
        covered.update(range(passage.start, passage.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_text_hash_is_stable_and_follows_the_text() -> None:
    assert text_hash("Kill them all!") == text_hash("Kill them all!")
    assert text_hash("Kill them all!") != text_hash("Kill them all.")
    assert re.fullmatch(r"[0-9a-f]{16}", text_hash("x"))
    # pinned: an override recorded today must still apply after an upgrade
    assert text_hash("Kill them all!") == "fed49fff99e1f44b"


# -- screening and overrides ----------------------------------------------------------------


def test_offline_screen_flags_per_passage() -> None:
    text = 'He killed the dragon.\n\n"Kill them all!" cried the captain.\n\nVote for me. Buy now!'
    chapter = Chapter(3, "Three", ProvenanceText(text))
    result = screen(passages_from_chapters([chapter]))
    assert result.error is None
    assert result.checked == 3
    assert result.by_openai == 0
    assert "offline" in result.source_note.lower()
    assert "3 passages" in result.source_note
    assert [
        (f.chapter_id, text[f.start : f.end], f.categories, f.source) for f in result.flags
    ] == [
        (3, '"Kill them all!" cried the captain.', ("violence",), "offline"),
        (3, "Vote for me. Buy now!", ("political-campaigning",), "offline"),
    ]
    first = result.flags[0]
    assert first.text_hash == text_hash('"Kill them all!" cried the captain.')
    assert result.reasons_for(first) == (
        "Violence or incitement: “Kill them all” (offline phrase list)",
    )


def test_categories_follow_category_order() -> None:
    result = screen([Passage(1, 0, 40, "Kill them all! Vote for me! You are worthless.")])
    assert result.flags[0].categories == ("political-campaigning", "harassment", "violence")


def test_apply_overrides_follows_the_text() -> None:
    passages = [Passage(1, 0, 14, "Kill them all!"), Passage(1, 16, 32, "Nobody would miss you.")]
    flags = screen(passages).flags
    overrides = {
        text_hash("Kill them all!"): ("the orc captain's battle cry", "Ada", 1_700_000_000_000),
        text_hash("Nobody would miss you. (edited)"): ("stale", "Ada", 1),
        text_hash("ignored"): ("", "Ada", 2),
    }
    result = apply_overrides(flags, overrides)
    assert result[0].override == "the orc captain's battle cry"
    assert (result[0].override_by, result[0].override_at) == ("Ada", 1_700_000_000_000)
    assert result[1].override == ""
    assert result[1] == flags[1]
    # a blank reason is not an override
    blank = apply_overrides(flags, {flags[1].text_hash: ("   ", "Ada", 3)})
    assert blank[1].override == ""


def test_override_unblocks_the_gate_until_the_text_changes() -> None:
    text = 'Calm opening.\n\n"Kill them all!" cried the orc.'
    chapter = Chapter(1, "One", ProvenanceText(text))
    flags = screen(passages_from_chapters([chapter])).flags
    assert not check_gate([chapter], {}, flags=flags).allowed
    overrides = {flags[0].text_hash: ("a villain's line", "Ada", 5)}
    assert check_gate([chapter], {}, flags=apply_overrides(flags, overrides)).allowed

    edited = Chapter(1, "One", ProvenanceText(text.replace("orc", "orc captain")))
    new_flags = apply_overrides(screen(passages_from_chapters([edited])).flags, overrides)
    assert [f.override for f in new_flags] == [""]
    assert not check_gate([edited], {}, flags=new_flags).allowed


def test_flag_is_the_policy_flag() -> None:
    (flag,) = screen([Passage(2, 5, 19, "Kill them all!")]).flags
    assert isinstance(flag, Flag)
    assert (flag.chapter_id, flag.start, flag.end) == (2, 5, 19)


def test_empty_input() -> None:
    result = screen([])
    assert result.flags == []
    assert result.error is None
    assert result.checked == 0


# -- documentation --------------------------------------------------------------------------


def test_docs_list_every_rule_and_the_limits() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for rule in OFFLINE_RULES:
        assert f"- {rule.description}\n" in docs, rule.description
    counts = Counter(rule.category for rule in OFFLINE_RULES)
    for category, label in CATEGORIES.items():
        n = counts[category]
        assert f"### {label} (`{category}`): {n} rule{'s' if n != 1 else ''}\n" in docs
    assert f"{len(OFFLINE_RULES)} rules in all" in docs
    for limit in (
        "English only",
        "Context",
        "Images",
        "Paraphrase",
        "False positives are expected",
    ):
        assert limit in docs, limit


def test_ui_description_says_what_it_is_and_misses() -> None:
    text = OFFLINE_DESCRIPTION
    assert "English phrases" in text
    assert "does not understand context" in text
    assert "cannot catch" in text
    assert "other languages" in text
    assert "override" in text
    assert len(text) < 600
