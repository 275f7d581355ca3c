"""The offline checker's rules. Content-policy screening, one result per passage (paragraph), before a book leaves Coauthor.

Two screeners share eight categories (``CATEGORIES``): political campaigning, sexual content,
spam, hate, harassment, violence or incitement, self-harm, and other social harm.

``OfflineScreener`` (``coauthor.screening.offline``) -- always available, needs no network -- is what it
says and no more:


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
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from coauthor.core.policy import CATEGORIES

__all__ = [
    "OFFLINE_DESCRIPTION",
    "OFFLINE_NOTE",
    "OFFLINE_RULES",
    "Rule",
]

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


@dataclass(frozen=True)
class Rule:
    """One offline pattern: ``description`` is what it looks for, in the docs' words."""

    category: str
    description: str
    pattern: re.Pattern[str]
    min_count: int = 1
    """How many matches in one passage it takes (spam patterns count repetitions)."""


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
