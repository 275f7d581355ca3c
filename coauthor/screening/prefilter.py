"""The prefilter: the words an offline rule cannot match without."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

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
