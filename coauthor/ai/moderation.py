"""Content-policy screening, one result per passage (paragraph), before a book leaves Coauthor.

Two screeners share eight categories (``CATEGORIES``): political campaigning, sexual content,
spam, hate, harassment, violence or incitement, self-harm, and other social harm.

``OpenAIModerator`` -- used when OpenAI is the configured model provider -- sends the passages
to OpenAI's moderation endpoint (``POST /v1/moderations``, ``omni-moderation-latest``) through
the official ``openai`` SDK, at most 32 per request, and maps OpenAI's categories onto ours.
OpenAI has no category for political campaigning or spam, so the offline checker screens
those two in the same run.

``OfflineScreener`` -- always available, needs no network -- is what it says and no more:

WHAT IT IS
    A fixed list of English phrase patterns per category (regular expressions, matched
    case-insensitively on word boundaries; ``OFFLINE_RULES``, listed with the same wording in
    ``docs/content-screening.md``). It aims at what a publisher's policy forbids rather than at
    what fiction depicts: calls to vote or donate, campaign notices, spam patterns, a short
    clinical list of explicit sexual terms, dehumanising constructions ("those X are vermin"),
    direct abuse ("nobody would miss you"), calls to violence ("kill them all"), encouragement
    of or instructions for self-harm, and instructions for weapons, drugs and fraud. Plain
    narration of violence ("He killed the dragon.") is deliberately not on the lists. The same
    text always gives the same result, and every hit names the phrase that matched.

WHAT IT CANNOT CATCH
    Anything not on the lists: paraphrase and misspelling ("k1ll them all"), any language
    other than English, subtle or coded hate and harassment, threats made without the listed
    words, sexual content written without the listed terms, images. It does not understand
    context: it cannot tell a character's line, irony, quotation or reportage from the
    author's own voice. So it misses much that a human reader or OpenAI's classifier would
    flag, and in fiction it will also flag passages that are fine (a villain's speech, a
    campaign scene). That is why a flag can be overridden with a recorded reason, and why a
    clean offline result is not a statement that a book meets any policy.

``screen`` runs one screener over the passages and returns ``Flag`` records (``coauthor.core
.policy``) with a sentence naming the screener. If the moderation endpoint fails (refused key,
rate limit, server error, timeout, no connection, unreadable reply, or an ``http://`` address
of another computer, to which the key is never sent) the passages it did not screen are
screened offline, and the result says so in ``error``, ``source_note`` and ``statement``
("OpenAI moderation failed (…); the offline checker screened the text instead.", which the
export summary and the provenance report repeat): text is never passed unscreened, and the
failure is never silent. Error sentences are redacted of the key (``errors.redact``).
Each flag carries ``text_hash``, a hash of its passage's text, so an override recorded by the
author (``apply_overrides``) follows that exact text and lapses as soon as it is edited.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlparse

import openai

from coauthor.ai.errors import (
    FailureKind,
    ProviderError,
    insecure_url,
    retry_wait,
    root_cause,
    service_message,
)
from coauthor.core.policy import Flag

if TYPE_CHECKING:
    from coauthor.ai.service import ProviderConfig
    from coauthor.core.book import Chapter

logger = logging.getLogger(__name__)

__all__ = [
    "CATEGORIES",
    "DEFAULT_MODEL",
    "OFFLINE_DESCRIPTION",
    "OFFLINE_RULES",
    "OPENAI_CATEGORY_MAP",
    "Hit",
    "OfflineScreener",
    "OpenAIModerator",
    "Passage",
    "Rule",
    "ScreeningResult",
    "apply_overrides",
    "moderator_for",
    "passages_from_chapters",
    "screen",
    "text_hash",
]

CATEGORIES: dict[str, str] = {
    "political-campaigning": "Political campaigning",
    "sexual": "Sexual content",
    "spam": "Spam",
    "hate": "Hate",
    "harassment": "Harassment",
    "violence": "Violence or incitement",
    "self-harm": "Self-harm",
    "other-harm": "Other social harm",
}
"""Our categories, in the order they are shown, with their labels for the author."""

DEFAULT_MODEL = "omni-moderation-latest"
BATCH_SIZE = 32

OFFLINE_DESCRIPTION = (
    "Offline screening is a list of English phrases per category, such as calls to vote or "
    "donate, spam patterns, explicit sexual terms, “those … are vermin”, “nobody would miss "
    "you”, “kill them all” or instructions for making a bomb. It does not understand context "
    "and cannot catch paraphrase, other languages, subtle hate or harassment, or anything not "
    "on its lists, so a clean result is not a guarantee. In fiction it will also flag passages "
    "that are fine; override those with a reason."
)
"""One paragraph for the screening dialog: what the offline checker is and what it misses."""

OFFLINE_NOTE = (
    "Screened offline by Coauthor's phrase checker (English phrase lists, no understanding of "
    "context)."
)

OPENAI_CATEGORY_MAP: dict[str, str] = {
    "harassment": "harassment",
    "hate": "hate",
    "self-harm": "self-harm",
    "sexual": "sexual",
    "violence": "violence",
    "illicit": "other-harm",
}
"""OpenAI's category families (the part before ``/``) and ours; any other becomes other-harm."""

OPENAI_UNCOVERED = ("political-campaigning", "spam")
"""Our categories OpenAI's moderation endpoint has no category for: screened offline."""


# -- passages -------------------------------------------------------------------------------


class Passage(NamedTuple):
    """One paragraph of a chapter: ``text`` is ``chapter text[start:end]`` (code points)."""

    chapter_id: int
    start: int
    end: int
    text: str


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")  # as the exporters split paragraphs


def split_passages(chapter_id: int, text: str) -> list[Passage]:
    """The paragraphs of one chapter's text (blank-line separated), trimmed of outer spaces."""
    passages: list[Passage] = []
    pos = 0
    for bound in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = bound.start() if bound is not None else len(text)
        piece = text[pos:end]
        stripped = piece.strip()
        if stripped:
            start = pos + (len(piece) - len(piece.lstrip()))
            passages.append(Passage(chapter_id, start, start + len(stripped), stripped))
        if bound is not None:
            pos = bound.end()
    return passages


def passages_from_chapters(chapters: Iterable[Chapter]) -> list[Passage]:
    """Every paragraph of every chapter, in order, with positions in its chapter."""
    return [p for chapter in chapters for p in split_passages(chapter.id, chapter.text.text)]


def text_hash(text: str) -> str:
    """The hash an override is recorded against: the first 16 hex digits of SHA-256."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# -- the offline checker --------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One offline pattern: ``description`` is what it looks for, in the docs' words."""

    category: str
    description: str
    pattern: re.Pattern[str]
    min_count: int = 1
    """How many matches in one passage it takes (spam patterns count repetitions)."""


@dataclass(frozen=True)
class Hit:
    """Why a passage is flagged: the category and what matched, or what the service said."""

    category: str
    phrase: str
    source: str = "offline"

    @property
    def reason(self) -> str:
        label = CATEGORIES.get(self.category, self.category)
        if self.source == "offline":
            return f"{label}: “{self.phrase}” (offline phrase list)"
        return f"{label}: {self.phrase}"


# A call to action: the start of a sentence or line, or an urging word before the verb.
_CALL = (
    r"(?:^|[.!?:;\"“”(]\s*|\b(?:please|go|so|now|remember to|don't forget to|make sure to|"
    r"be sure to|get out and|come out and|(?:urge|ask|encourage|beg) (?:you|everyone|voters) to) )"
)
_OFFICE = (
    r"(?:mayor|senator|senate|governor|president|congress|congresswoman|congressman|parliament|"
    r"council|sheriff|prime minister|mp|assembly|district attorney|attorney general)"
)
_PLACE = (
    r"(?:embassy|church|mosque|synagogue|temple|school|capitol|parliament|congress|"
    r"police station|courthouse|city hall|town hall|mall|stadium|clinic|hospital|airport)"
)
_BOMB_WORDS = (
    r"(?:bomb|pipe bomb|car bomb|explosive|explosives|ied|molotov cocktail|detonator|"
    r"nerve agent|ghost gun|silencer|suppressor)"
)


def _rule(
    category: str,
    description: str,
    *alternatives: str,
    min_count: int = 1,
    ignore_case: bool = True,
) -> Rule:
    """A rule matching any of ``alternatives``; a space in them matches any white space."""
    pattern = "|".join(f"(?:{alt})" for alt in alternatives).replace(" ", r"\s+")
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    return Rule(category, description, re.compile(pattern, flags), min_count)


OFFLINE_RULES: tuple[Rule, ...] = (
    # political campaigning: calls and notices, not the word "campaign" or "vote"
    _rule(
        "political-campaigning",
        "a call to vote for or against someone or something",
        _CALL + r"vote (?:for|against|yes on|no on)\b",
    ),
    _rule(
        "political-campaigning",
        "a call to elect or re-elect someone",
        _CALL + r"(?:re-?elect|elect)\b",
    ),
    _rule(
        "political-campaigning",
        "“vote <name> for <office>”",
        r"\bvote (?:[\w.'-]+ ){1,3}for " + _OFFICE + r"\b",
    ),
    _rule(
        "political-campaigning",
        "a request to donate to a campaign",
        r"\b(?:donate|contribute|give|chip in)(?: (?:\$?\d[\d,.]*|now|today|generously))? "
        r"to (?:the|our|my|his|her|their) (?:re-?election )?campaign\b",
    ),
    _rule(
        "political-campaigning",
        "a call to join or support “our/my campaign”",
        r"\b(?:join|support|volunteer for|volunteer with) (?:our|my) (?:re-?election )?campaign\b",
    ),
    _rule(
        "political-campaigning",
        "a campaign's legal notice (“paid for by … committee”, “I approve this message”)",
        r"\bpaid for by (?:the )?(?:[\w.'&-]+ ){0,6}?"
        r"(?:committee|campaign|party|pac|friends of|citizens for)\b",
        r"\band I approve this message\b",
    ),
    # spam: repetition and patterns, so one "click here" in a scene does not flag
    _rule(
        "spam",
        "two or more sales calls (“buy now”, “click here”, “limited time offer”, "
        "“order now”, “act now”, “subscribe now”, “call now”, “sign up now”)",
        r"\b(?:buy now|click here|limited[- ]time offer|order now|act now|subscribe now)\b",
        r"\b(?:call now|sign up now)\b",
        min_count=2,
    ),
    _rule(
        "spam",
        "three or more web addresses in one paragraph",
        r"\b(?:https?://|www\.)[^\s<>\"“”]+",
        min_count=3,
    ),
    _rule(
        "spam",
        "money-for-nothing offers (“free money”, “get rich quick”, “earn $500 a day”, "
        "“congratulations, you have won”)",
        r"\b(?:free money|free cash|get rich quick|make money fast)\b",
        r"\bearn \$?\d[\d,]* (?:a|per) (?:day|week|hour)\b",
        r"\bcongratulations,? you(?:'ve| have) (?:won|been selected)\b",
    ),
    _rule(
        "spam",
        "shouting: eight or more words in a row in capitals",
        r"\b(?:[A-Z][A-Z']+[!?.,]* ){7,}[A-Z][A-Z']+\b",
        ignore_case=False,
    ),
    # sexual content: a short clinical list of explicit terms
    _rule(
        "sexual",
        "explicit sex acts (“oral sex”, “anal sex”, “sexual intercourse”, “vaginal penetration”)",
        r"\b(?:oral|anal|vaginal) (?:sex|intercourse|penetration)\b",
        r"\bsexual intercourse\b",
    ),
    _rule("sexual", "masturbation, ejaculation, orgasm", r"\b(?:masturbat|ejaculat|orgasm)\w*"),
    _rule(
        "sexual",
        "clinical names of genitals (“penis”, “vagina”, “clitoris”, “vulva”, “genitals”)",
        r"\b(?:penis|penises|vagina|vaginas|clitoris|vulva|genitals|genitalia)\b",
    ),
    _rule("sexual", "pornography", r"\bporn(?:ography|ographic|o|s)?\b"),
    _rule(
        "sexual",
        "sexual content involving children",
        r"\b(?:child|children|underage|minor|minors)(?:'s)? (?:porn\w*|sexual abuse material)\b",
        r"\bsex(?:ual)? (?:acts? |contact |relations )?with (?:a |an |the )?"
        r"(?:child|children|minor|minors|underage \w+)\b",
    ),
    # hate: dehumanising constructions, not the mention of a group
    _rule(
        "hate",
        "“all/those/these <group> are vermin/animals/subhuman/parasites/…”",
        r"\b(?:all|those|these) (?:[\w-]+ ){1,2}are (?:nothing but |just |all )?"
        r"(?:vermin|animals|subhuman|sub-human|parasites|cockroaches|rats|a disease|a plague"
        r"|an infestation|not human)\b",
    ),
    _rule("hate", "the word “subhuman”", r"\bsub-?human\b"),
    _rule(
        "hate",
        "“should/must be exterminated”, “… wiped out”, “… eradicated”",
        r"\b(?:should|must|ought to|deserve to|need to|have to) be "
        r"(?:exterminated|eradicated|wiped out|gassed)\b",
    ),
    _rule(
        "hate",
        "“go back to where you came from”",
        r"\b(?:go|get|send (?:them|him|her|you|'em)) back (?:to )?where "
        r"(?:you|they|he|she) (?:came|come) from\b",
    ),
    _rule("hate", "“inferior race”", r"\binferior (?:race|races|breed)\b"),
    # harassment: abuse addressed to "you"
    _rule("harassment", "“kill yourself”, “kys”", r"\b(?:kill yourself|kys)\b"),
    _rule(
        "harassment",
        "“you are worthless”, “you're a waste of space”",
        r"\byou(?:'re| are) (?:so |just |completely |totally )?"
        r"(?:worthless|a waste of (?:space|oxygen|skin|air))\b",
    ),
    _rule(
        "harassment",
        "“nobody would miss you”, “no one would care if you died”",
        r"\b(?:nobody|no one|no-one) would (?:even )?(?:miss you|notice if you|care if you)\b",
    ),
    _rule(
        "harassment",
        "“everyone hates you”",
        r"\b(?:everyone|everybody) (?:hates|despises|laughs at) you\b",
    ),
    _rule(
        "harassment",
        "“you should die”, “you deserve to die”",
        r"\byou (?:should|deserve to|ought to) (?:just )?die\b",
    ),
    _rule("harassment", "“I know where you live”", r"\bI know where you live\b"),
    # violence or incitement: calls to violence, not narrated violence
    _rule(
        "violence",
        "“kill them all”, “kill every one of them”",
        r"\bkill (?:them|'em) all\b",
        r"\bkill all of them\b",
        r"\bkill every (?:last )?(?:one|man|woman) of them\b",
    ),
    _rule(
        "violence",
        "“let's burn (it) down”",
        r"\blet's burn (?:[\w']+ ){0,3}?(?:down|to the ground)\b",
    ),
    _rule(
        "violence",
        "“attack/bomb/storm/burn down/blow up/shoot up the <embassy, school, mosque, church, …>”",
        r"\b(?:attack|bomb|storm|burn down|blow up|shoot up) the " + _PLACE + r"\b",
    ),
    _rule(
        "violence",
        "a call to bomb (“bomb the …” at the start of a sentence, “let's bomb”)",
        r"(?:^|[.!?:;\"“”]\s*|\b(?:let's|we should|we must|we will|we'll|we're going to|go|"
        r"time to|I'm going to|I will|I'll) )bomb (?:the|them)\b",
    ),
    _rule("violence", "“death to …”", r"\bdeath to (?:all |the )?[\w-]+"),
    _rule(
        "violence",
        "“rise up and kill”, “go out and shoot”",
        r"\b(?:rise up|go out) and (?:kill|slaughter|shoot|murder|butcher)\b",
    ),
    # self-harm: encouragement and instructions, not a character's despair
    _rule(
        "self-harm",
        "“how (do I) kill/hurt/cut myself”",
        r"\bhow (?:to|do I|can I|should I|would I) (?:kill|hurt|harm|cut|starve) "
        r"(?:myself|yourself)\b",
    ),
    _rule(
        "self-harm",
        "“how to commit suicide”, “how to self-harm”",
        r"\bhow to (?:commit suicide|self-harm)\b",
    ),
    _rule(
        "self-harm",
        "“ways/methods/tips to self-harm / kill yourself / commit suicide”",
        r"\b(?:ways|methods|tips) (?:to|for|of) (?:self-harm\w*|commit(?:ting)? suicide|"
        r"(?:kill|hurt|cut)(?:ing|ting)? (?:yourself|myself))\b",
    ),
    _rule(
        "self-harm",
        "“you should hurt/cut/kill/starve yourself”",
        r"\byou should (?:just |go )?(?:hurt|harm|cut|kill|starve) yourself\b",
    ),
    _rule(
        "self-harm",
        "“the easiest/best/painless way to die”",
        r"\b(?:best|easiest|quickest|surest|most painless|painless) (?:way|ways|method|methods) "
        r"to (?:die|commit suicide|kill (?:yourself|myself)|end (?:it all|your life|my life))\b",
    ),
    _rule(
        "self-harm",
        "pro-eating-disorder terms (“pro-ana”, “thinspiration”)",
        r"\b(?:pro-ana|pro-mia|thinspo|thinspiration)\b",
    ),
    # other social harm: instructions for weapons, drugs and fraud
    _rule(
        "other-harm",
        "instructions for a bomb or weapon (“how to make a bomb”)",
        r"\b(?:how to|instructions for|recipe for|steps to|guide to) "
        r"(?:make|making|build|building|assemble|assembling) (?:a |an |your own )?"
        + _BOMB_WORDS
        + r"\b",
    ),
    _rule(
        "other-harm",
        "making hard drugs (“synthesize meth”, “cook fentanyl”)",
        r"\b(?:synthesi[sz]e|synthesi[sz]ing|cook|cooking|make|making|manufacture|manufacturing) "
        r"(?:meth|methamphetamine|crystal meth|fentanyl|heroin|crack cocaine|mdma)\b",
    ),
    _rule(
        "other-harm",
        "stealing card or bank details (“steal credit card numbers”)",
        r"\bsteal(?:ing)? (?:someone's |people's |their )?"
        r"(?:credit card|debit card|card|bank|bank account|social security) "
        r"(?:numbers|details|data|information|info)\b",
    ),
    _rule(
        "other-harm",
        "how to commit fraud or theft (“how to launder money”, “how to shoplift”)",
        r"\bhow to (?:launder money|shoplift|hotwire a car|commit (?:fraud|identity theft)|"
        r"evade taxes|forge (?:a )?(?:passport|signature|check|cheque)|"
        r"make counterfeit \w+|hack into (?:[\w']+ ){0,2}(?:account|email|phone))\b",
    ),
    _rule(
        "other-harm",
        "buying drugs or guns illegally (“buy fentanyl online”)",
        r"\b(?:buy|order|get) (?:guns|drugs|fentanyl|cocaine|heroin|meth) "
        r"(?:online|without a (?:prescription|license|licence|background check))\b",
    ),
)
"""Every offline rule, grouped by category in ``CATEGORIES`` order."""

_LEADING = ' \t\n.!?:;"“”('
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def _ordered(categories: Iterable[str]) -> tuple[str, ...]:
    present = set(categories)
    return tuple(c for c in CATEGORIES if c in present)


# -- the prefilter: words a rule cannot match without ---------------------------------------
#
# Most paragraphs match no rule, and most rules cannot match at all without some word that is
# rare in fiction ("vote", "campaign", "yourself", "fentanyl"). So each rule's pattern is read
# once (with ``re``'s own parser) for the literal words any match of it must contain, and a
# paragraph is only searched with the rules whose words it contains: cheap ``in`` tests on the
# paragraph lowercased instead of a regular-expression scan per rule. A rule without such
# words always runs. The hits are the same either way; the tests compare the two.

_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
"""The characters other than ASCII ones that ``re.IGNORECASE`` matches to an ASCII character:
İ and ı to i, ſ (long s) to s, the Kelvin sign to k. The tests check every code point."""

_MIN_WORD = 3
"""Words shorter than this ("to", "a") are in nearly every paragraph: not worth a test."""

_MAX_NEEDS = 3
"""How many sets of words (the strongest) a rule is prefiltered with."""

try:  # the standard library's own regex parser: private, so a Python without it only loses speed
    from re import _parser as _parser_module  # pyright: ignore[reportAttributeAccessIssue]
except ImportError:  # pragma: no cover - every Python from 3.11 to 3.14 has it
    _parser_module = None
_re_parser: Any = _parser_module
_REPEATS = (
    (_re_parser.MAX_REPEAT, _re_parser.MIN_REPEAT, _re_parser.POSSESSIVE_REPEAT)
    if _re_parser is not None
    else ()
)


def _folded(text: str) -> str:
    """``text`` lowercased: where ``re`` matches ASCII literals in it ignoring case, they are.

    ``str.lower`` alone is not that: ``re`` matches “İ” to “i” but ``"İ".lower()`` is “i” and a
    combining dot, and it leaves ı and ſ as they are, so ``_FOLD`` maps those first. Every other
    character lowers on its own, to nothing a literal is matched to or to more matches (which
    only lets a rule run): a lowercase ASCII word ``re`` finds in ``text`` is in the result.
    """
    return text.lower() if text.isascii() else text.translate(_FOLD).lower()


def _strength(need: frozenset[str]) -> tuple[int, int]:
    """How rare a set of words looks: the longer its shortest word, then the fewer words."""
    return min(map(len, need)), -len(need)


def _needs_of(items: Iterable[tuple[Any, Any]]) -> list[frozenset[str]]:
    """Sets of lowercase words a match of this parsed (sub)pattern contains one of, each.

    Sound step by step over the parse tree of ``re``'s own parser: consecutive ASCII literals
    are matched as they stand (up to case), so their run is a word; a branch matches through
    one alternative, so one set from each alternative, joined, holds (and nothing does if an
    alternative gives none); literals just before a branch begin each alternative; an item
    repeated at least once holds what it holds; a group holds what its content holds.
    Anything else (classes, ``.``, anchors, look-arounds, back-references, items that may be
    absent) gives nothing and ends a run: knowing less only makes a rule run more often.
    """
    needs: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is _re_parser.LITERAL and av < 128:
            run.append(chr(av))
            continue
        prefix = [(_re_parser.LITERAL, ord(char)) for char in run]
        if run:
            needs.append(frozenset({"".join(run).lower()}))
            run = []
        if op is _re_parser.BRANCH:
            alternatives = [_needs_of([*prefix, *alternative]) for alternative in av[1]]
            if all(alternatives):
                needs.append(frozenset().union(*(max(a, key=_strength) for a in alternatives)))
        elif op is _re_parser.SUBPATTERN:
            needs += _needs_of(av[-1])
        elif op is _re_parser.ATOMIC_GROUP:
            needs += _needs_of(av)
        elif op in _REPEATS and av[0] >= 1:
            needs += _needs_of(av[2])
    return needs


@functools.cache
def _prefilter(pattern: re.Pattern[str]) -> tuple[frozenset[str], ...]:
    """The sets of words a text needs one of, each, for ``pattern`` to match in it at all.

    The strongest ``_MAX_NEEDS`` of ``_needs_of`` the pattern, without short words; empty
    (the rule always runs) when the pattern has no literal words that every match contains.
    The words are tested on ``_folded`` text, case-insensitively whatever the pattern's flags:
    a case-sensitive rule only runs more often for it.
    """
    if _re_parser is None:  # pragma: no cover - see the import
        return ()
    needs = [
        # a word that contains another of its set adds nothing: "children" has "child"
        frozenset(word for word in need if not any(w != word and w in word for w in need))
        for need in _needs_of(_re_parser.parse(pattern.pattern, pattern.flags))
    ]
    useful = [need for need in dict.fromkeys(needs) if _strength(need)[0] >= _MIN_WORD]
    # a set that holds another adds nothing either: {"kill", "every"} once {"kill"} is needed
    useful = [need for need in useful if not any(other < need for other in useful)]
    return tuple(sorted(useful, key=_strength, reverse=True)[:_MAX_NEEDS])


def _has_each(folded: str, needs: tuple[tuple[str, ...], ...]) -> bool:
    """Whether ``folded`` contains a word of each of ``needs`` (true if there are none)."""
    for need in needs:
        for word in need:
            if word in folded:
                break
        else:
            return False
    return True


class OfflineScreener:
    """The phrase checker: deterministic, English only, no understanding of context.

    With ``prefilter`` (the default) a rule only runs on a passage that contains the words
    its pattern cannot match without (``_prefilter``); without it every rule runs, which
    gives the same hits, more slowly (the tests compare the two).
    """

    source = "offline"

    def __init__(self, rules: Sequence[Rule] = OFFLINE_RULES, *, prefilter: bool = True) -> None:
        self.rules = tuple(rules)
        self.prefilter = prefilter
        self._needs = tuple(
            tuple(tuple(sorted(need)) for need in _prefilter(rule.pattern)) if prefilter else ()
            for rule in self.rules
        )

    def check(self, text: str, categories: Iterable[str] | None = None) -> list[Hit]:
        """The hits in one passage (one per rule that matched), optionally for some categories."""
        wanted = set(CATEGORIES if categories is None else categories)
        plain = text.translate(_APOSTROPHES)  # same length, so spans index ``text`` too
        folded = _folded(plain) if self.prefilter else plain
        hits: list[Hit] = []
        for rule, needs in zip(self.rules, self._needs, strict=True):
            if rule.category not in wanted or not _has_each(folded, needs):
                continue
            matches = list(rule.pattern.finditer(plain))
            if len(matches) < rule.min_count or not matches:
                continue
            phrases = [" ".join(text[m.start() : m.end()].split()).strip(_LEADING) for m in matches]
            phrase = phrases[0] if len(phrases) == 1 else ", ".join(dict.fromkeys(phrases))
            if len(phrase) > 80:
                phrase = phrase[:79] + "…"
            hits.append(Hit(rule.category, phrase))
        return hits


# -- the moderation endpoint ----------------------------------------------------------------


class OpenAIModerator:
    """OpenAI's moderation endpoint through the official SDK, mapped onto our categories."""

    source = "openai"

    def __init__(
        self,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        model: str = DEFAULT_MODEL,
        *,
        timeout: float = 30.0,
        max_attempts: int = 3,
        backoff: float = 0.5,
        max_wait: float = 10.0,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self.batch_size = max(1, min(batch_size, BATCH_SIZE))
        self.requests = 0
        """Requests sent, retries included."""
        self.retries: list[str] = []
        """One line per retry: what failed and how long Coauthor waited."""
        self._key = api_key
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "not-needed",
            timeout=openai.Timeout(timeout, connect=min(10.0, timeout)),
            max_retries=0,  # retries are ours, bounded and explained
        )

    @property
    def host(self) -> str:
        return urlparse(self.base_url).netloc or self.base_url

    def describe(self) -> str:
        return f"OpenAI's moderation endpoint ({self.model} at {self.host})"

    # -- errors -----------------------------------------------------------------------------

    def _error(
        self, kind: FailureKind, message: str, *, status: int | None = None
    ) -> ProviderError:
        """A ``ProviderError`` whose sentence is redacted of this moderator's key."""
        return ProviderError(kind, message, status=status, secrets=(self._key,))

    def refusal(self) -> str | None:
        """Why the key must not be sent to this endpoint (plain ``http://`` to another
        computer), or None."""
        return insecure_url(self.base_url, self._key)

    def _translate(self, exc: Exception) -> ProviderError:
        where = f"the moderation endpoint at {self.host}"
        tries = f"{self.max_attempts} tr{'ies' if self.max_attempts != 1 else 'y'}"
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return self._error(
                FailureKind.AUTH,
                f"The key was refused by {where} (HTTP {exc.status_code}); check the OpenAI key "
                "in the model settings.",
                status=exc.status_code,
            )
        if isinstance(exc, openai.RateLimitError):
            return self._error(
                FailureKind.RATE_LIMIT,
                f"{where.capitalize()} is limiting requests (HTTP 429) and still refused after "
                f"{tries}; wait a minute and screen again.",
                status=429,
            )
        if isinstance(exc, openai.APITimeoutError):
            return self._error(
                FailureKind.TIMEOUT,
                f"{where.capitalize()} did not answer within {self.timeout:g} seconds.",
            )
        if isinstance(exc, openai.APIConnectionError):
            return self._error(
                FailureKind.CONNECTION,
                f"Cannot connect to the moderation endpoint at {self.base_url}: "
                f"{root_cause(exc)}. Is the computer online, and is the address right?",
            )
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                return self._error(
                    FailureKind.SERVER,
                    f"{where.capitalize()} failed with HTTP {exc.status_code} after {tries}; the "
                    "service may be down.",
                    status=exc.status_code,
                )
            if exc.status_code == 404:
                return self._error(
                    FailureKind.BAD_REQUEST,
                    f"{self.host} has no moderation endpoint "
                    f"(HTTP 404: {service_message(exc, self._key)}).",
                    status=404,
                )
            return self._error(
                FailureKind.BAD_REQUEST,
                f"{where.capitalize()} refused the request (HTTP {exc.status_code}): "
                f"{service_message(exc, self._key)}.",
                status=exc.status_code,
            )
        if isinstance(exc, ValueError):  # json.JSONDecodeError, UnicodeDecodeError
            return self._error(
                FailureKind.MALFORMED,
                f"{where.capitalize()} sent a reply Coauthor cannot read (it is not JSON).",
            )
        return self._error(FailureKind.MALFORMED, f"Unexpected reply from {where}: {exc}.")

    def _retry_wait(self, exc: Exception, attempt: int) -> float | None:
        return retry_wait(
            exc,
            attempt,
            max_attempts=self.max_attempts,
            backoff=self.backoff,
            max_wait=self.max_wait,
        )

    # -- calls ------------------------------------------------------------------------------

    def _post(self, texts: list[str]) -> Any:
        refusal = self.refusal()
        if refusal is not None:
            raise self._error(FailureKind.INSECURE, refusal)
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                raw = self._client.moderations.with_raw_response.create(
                    model=self.model, input=texts
                )
                return json.loads(raw.http_response.content)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a ProviderError
                wait = self._retry_wait(exc, attempt)
                if wait is None:
                    raise self._translate(exc) from None
                status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
                self.retries.append(f"attempt {attempt}: HTTP {status}, waited {wait:g} s")
                logger.info(
                    "moderation attempt %d failed (HTTP %s from %s); retrying in %g s",
                    attempt,
                    status,
                    self.host,
                    wait,
                )
                time.sleep(wait)

    def classify_batch(self, texts: Sequence[str]) -> list[list[Hit]]:
        """The hits of each text (at most ``batch_size``); raises ``ProviderError``."""
        texts = list(texts)
        if not texts:
            return []
        if len(texts) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} texts per request, not {len(texts)}")
        data = self._post(texts)
        results = data.get("results") if isinstance(data, dict) else None
        where = f"The moderation endpoint at {self.host}"
        if not isinstance(results, list):
            raise ProviderError(
                FailureKind.MALFORMED,
                f"{where} sent a reply Coauthor cannot read (it has no list of results).",
            )
        if len(results) != len(texts):
            raise ProviderError(
                FailureKind.MALFORMED,
                f"{where} sent a reply Coauthor cannot read ({len(results)} results for "
                f"{len(texts)} passages).",
            )
        return [self._hits(result, where) for result in results]

    @staticmethod
    def _hits(result: object, where: str) -> list[Hit]:
        categories = result.get("categories") if isinstance(result, dict) else None
        if not isinstance(result, dict) or not isinstance(categories, dict):
            raise ProviderError(
                FailureKind.MALFORMED,
                f"{where} sent a reply Coauthor cannot read (a result without categories).",
            )
        scores = result.get("category_scores")
        scores = scores if isinstance(scores, dict) else {}
        hits: list[Hit] = []
        for name, value in categories.items():
            if value is not True:
                continue
            ours = OPENAI_CATEGORY_MAP.get(str(name).split("/", 1)[0], "other-harm")
            score = scores.get(name)
            detail = f" {score:.2f}" if isinstance(score, int | float) else ""
            hits.append(Hit(ours, f"OpenAI flagged it as {name}{detail}", "openai"))
        if result.get("flagged") is True and not hits:
            hits.append(Hit("other-harm", "OpenAI flagged it without naming a category", "openai"))
        return hits

    def close(self) -> None:
        self._client.close()


def moderator_for(config: ProviderConfig, *, timeout: float = 30.0) -> OpenAIModerator | None:
    """The moderation endpoint for these settings, or None to screen offline.

    Only OpenAI itself (with a key) offers the moderation endpoint; the embedded model and
    self-hosted compatible servers do not, so they screen offline.
    """
    from coauthor.ai import keys
    from coauthor.ai.service import OPENAI_URL, ProviderKind

    if config.kind is not ProviderKind.OPENAI:
        return None
    key, _ = keys.get_key("openai")
    if not key:
        return None
    return OpenAIModerator(config.base_url or OPENAI_URL, key, timeout=timeout)


# -- one screening run ----------------------------------------------------------------------


@dataclass
class ScreeningResult:
    """Flags (one per flagged passage), what screened them, and the failure if any."""

    flags: list[Flag] = field(default_factory=list)
    source_note: str = ""
    error: str | None = None
    """Set when the moderation endpoint failed and the offline checker took over."""
    checked: int = 0
    by_openai: int = 0
    """How many passages OpenAI's endpoint screened (the rest were screened offline)."""
    reasons: dict[tuple[int, int, int], tuple[str, ...]] = field(default_factory=dict)
    """Why each passage is flagged, by ``(chapter_id, start, end)``."""
    retries: list[str] = field(default_factory=list)
    """The moderation requests that were retried (rate limit, server error), one line each."""
    statement: str = OFFLINE_NOTE
    """Which screening actually ran, in one sentence, for the export summary and the report:
    "OpenAI moderation failed (…); the offline checker screened the text instead." when the
    endpoint failed."""

    @property
    def fell_back(self) -> bool:
        """Whether the moderation endpoint failed and the offline checker took over."""
        return self.error is not None

    def reasons_for(self, flag: Flag) -> tuple[str, ...]:
        return self.reasons.get((flag.chapter_id, flag.start, flag.end), ())


def _flag(passage: Passage, hits: list[Hit]) -> Flag:
    source = "openai" if any(h.source == "openai" for h in hits) else "offline"
    return Flag(
        passage.chapter_id,
        passage.start,
        passage.end,
        _ordered(h.category for h in hits),
        source=source,
        text_hash=text_hash(passage.text),
    )


def screen(
    passages: Sequence[Passage],
    moderator: OpenAIModerator | None = None,
    *,
    offline: OfflineScreener | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScreeningResult:
    """Screen every passage; never raises for a service failure and never skips a passage.

    With a moderator, OpenAI screens each passage and the offline checker adds political
    campaigning and spam. Once the endpoint fails, the passages of that batch and every later
    one are screened offline in full, and ``error`` and ``source_note`` say so.
    """
    offline = offline or OfflineScreener()
    passages = [p for p in passages if p.text.strip()]
    total = len(passages)
    hits: list[list[Hit]] = [[] for _ in passages]
    done = 0
    error: ProviderError | None = None
    retried = len(moderator.retries) if moderator is not None else 0
    if moderator is not None:
        while done < total:
            batch = passages[done : done + moderator.batch_size]
            try:
                answers = moderator.classify_batch([p.text for p in batch])
            except ProviderError as exc:
                error = exc
                logger.warning("moderation endpoint failed: %s", exc)
                break
            for index, (passage, answer) in enumerate(zip(batch, answers, strict=True)):
                hits[done + index] = answer + offline.check(passage.text, OPENAI_UNCOVERED)
            done += len(batch)
            if progress is not None:
                progress(done, total)
    by_openai = done
    for index in range(by_openai, total):
        hits[index] = offline.check(passages[index].text)
        if progress is not None and (index + 1 == total or (index + 1) % 64 == 0):
            progress(index + 1, total)

    result = ScreeningResult(checked=total, by_openai=by_openai)
    if moderator is not None:
        result.retries = moderator.retries[retried:]
    for passage, found in zip(passages, hits, strict=True):
        if found:
            flag = _flag(passage, found)
            result.flags.append(flag)
            result.reasons[(flag.chapter_id, flag.start, flag.end)] = tuple(
                dict.fromkeys(h.reason for h in found)
            )
    result.statement, result.source_note, result.error = _notes(moderator, error, total, by_openai)
    return result


def _failure_phrase(moderator: OpenAIModerator, error: ProviderError) -> str:
    """What went wrong with the moderation endpoint, in a few words (for the statement)."""
    host = moderator.host
    tries = f"{moderator.max_attempts} tr{'ies' if moderator.max_attempts != 1 else 'y'}"
    kind = error.kind
    if kind is FailureKind.AUTH:
        return f"{host} refused the key, HTTP {error.status}"
    if kind is FailureKind.RATE_LIMIT:
        return f"{host} was still limiting requests after {tries}, HTTP 429"
    if kind is FailureKind.SERVER:
        return f"{host} answered HTTP {error.status} after {tries}"
    if kind is FailureKind.TIMEOUT:
        return f"{host} did not answer within {moderator.timeout:g} seconds"
    if kind is FailureKind.CONNECTION:
        return f"Coauthor could not connect to {host}"
    if kind is FailureKind.INSECURE:
        return f"Coauthor will not send the key to {host} over plain http://"
    if kind is FailureKind.MALFORMED:
        return f"{host} sent a reply Coauthor cannot read"
    return f"{host} refused the request" + (f", HTTP {error.status}" if error.status else "")


def _notes(
    moderator: OpenAIModerator | None, error: ProviderError | None, total: int, by_openai: int
) -> tuple[str, str, str | None]:
    """The statement of which screening ran, the note (the statement and a count) and, when
    the endpoint failed, the error for the author."""
    count = f"{total} passage{'s' if total != 1 else ''}"
    checked = f"{count.capitalize()} checked."
    if moderator is None:
        return OFFLINE_NOTE, f"{OFFLINE_NOTE} {checked}", None
    service = moderator.describe()
    if error is None:
        statement = (
            f"Screened by {service}; political campaigning and spam, which it does not cover, "
            "by Coauthor's offline phrase checker."
        )
        return statement, f"{statement} {checked}", None
    rest = total - by_openai
    failed = f"OpenAI moderation failed ({_failure_phrase(moderator, error)})"
    if by_openai:
        statement = (
            f"{failed} after screening {by_openai} of {count}; the offline checker screened "
            f"the other {rest} instead."
        )
        note = statement
    else:
        statement = f"{failed}; the offline checker screened the text instead."
        note = f"{statement} {checked}"
    message = (
        f"{error} The offline phrase checker screened {rest} passage{'s' if rest != 1 else ''} "
        "instead; it catches far less, so screen again when the service is back."
    )
    return statement, note, message


# -- overrides ------------------------------------------------------------------------------


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
