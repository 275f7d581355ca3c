"""The foreword: rendered from the measured roles through a Jinja2 template, and checked.

The default template is ``resources/templates/foreword.txt.j2``; a file of the same name in a
user templates folder overrides it. An author may reword the foreword; ``check_foreword`` then
lists what the reworded text no longer states (the models, the shares, the responsibility) or
wrongly states (a percentage that is none of the measured ones, a number of passages other than
the measured one, shares of the words, a wholly human or wholly machine-written work), and
export refuses until it is fixed.

Every share the foreword gives is a whole percentage of the characters of the final text, from
``Roles.percents`` (largest remainder: they add up to 100), the same figures the status bar,
the tables and the report show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.core.resources import resources_dir
from coauthor.core.roles import CHARACTERS
from coauthor.publish.labels import PROVIDER_NAMES
from coauthor.publish.roles import Roles

__all__ = [
    "PROVIDER_NAMES",
    "ForewordFacts",
    "check_foreword",
    "foreword_facts",
    "paragraphs",
    "render_foreword",
]

TEMPLATE = "foreword.txt.j2"

_FORBIDDEN = [
    (
        re.compile(
            r"\b(entirely|wholly|completely|fully|100\s?%)\s+(human[- ]written|written by (a |the )?(human|author|hand))",
            re.IGNORECASE,
        ),
        "it presents the work as wholly human-written",
    ),
    (
        re.compile(
            r"\bwithout (the )?(any |help of )?(AI|artificial intelligence|a language model|machine)",
            re.IGNORECASE,
        ),
        "it says the work was written without AI",
    ),
    (
        re.compile(
            r"\b(no|none of the) (AI|artificial intelligence|language model) (was|were) used\b",
            re.IGNORECASE,
        ),
        "it says no AI was used",
    ),
    (
        re.compile(
            r"\b(entirely|wholly|completely|fully|100\s?%)\s+(AI|machine|model)[- ](written|generated)",
            re.IGNORECASE,
        ),
        "it presents the work as wholly machine-written",
    ),
    (
        re.compile(
            r"\b(entirely|wholly|completely)\s+(written|generated)\s+by\s+(an? |the )?(AI|machine|model|language model)",
            re.IGNORECASE,
        ),
        "it presents the work as wholly machine-written",
    ),
]
_RESPONSIBILITY = re.compile(r"\bresponsib", re.IGNORECASE)
_PERCENT = re.compile(r"(?<![\d.,])(\d+(?:[.,]\d+)?)\s?(?:%|per ?cent\b)", re.IGNORECASE)
_NUMBER_WORDS = {
    "no": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_NUMBER = r"(\d[\d,]*|" + "|".join(_NUMBER_WORDS) + r")"
_PASSAGES = re.compile(rf"(?<![\w.,]){_NUMBER}\s+passages?\b", re.IGNORECASE)
_GENERATIONS = re.compile(
    rf"(?<![\w.,]){_NUMBER}\s+(?:\w+\s+)?(?:generations?|suggestions?|drafts?)\b", re.IGNORECASE
)
_RESPONSIBLE_AFTER = re.compile(r"\s*(?:\w+\s+){0,2}responsib", re.IGNORECASE)
_OF_WORDS = re.compile(r"(%|per ?cent)\s+of\s+(the\s+|its\s+)?words\b", re.IGNORECASE)


@dataclass(frozen=True)
class ForewordFacts:
    """What any foreword, generated or reworded, must state, and the figures it may state.

    ``percents`` holds every percentage the foreword may give: the shares of the characters
    by origin (and pasted and imported together; the pasted share split into text from
    elsewhere and text the author declared their own writing) and the share of the drafts the
    author changed. ``passages`` is ``GenerationCounts.passages``; ``counts`` every generation count.
    """

    models: tuple[str, ...]
    ai_percent: int
    human_percent: int
    percents: frozenset[int] = frozenset()
    passages: int | None = None
    counts: frozenset[int] = frozenset()


def _author(meta: BookMeta) -> str:
    return meta.author or meta.company or "the author"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _models_sentence(models: list[tuple[str, str]]) -> str:
    """Each model named once, with every provider it came through."""
    providers: dict[str, list[str]] = {}
    for name, provider in models:
        label = PROVIDER_NAMES.get(provider, provider)
        if label not in providers.setdefault(name, []):
            providers[name].append(label)
    parts = [f"{name} (through {_and(labels)})" for name, labels in providers.items()]
    return _and(parts) if parts else "a language model"


def template_context(meta: BookMeta, roles: Roles) -> dict[str, object]:
    """The figures the foreword template is rendered with (and the manifest records).

    ``pasted_elsewhere_percent`` and ``declared_percent`` (the pasted share split by
    ``Roles.pasted_split``) are there only when the author declared pasted text their own
    writing, so the figures and foreword of every other book stay as they were.
    """
    percents = roles.percents
    declared = (
        dict(zip(("pasted_elsewhere_percent", "declared_percent"), roles.pasted_split, strict=True))
        if roles.declared
        else {}
    )
    return {
        "title": meta.title,
        "author": _author(meta),
        "company": meta.company if meta.author and meta.company else "",
        "models": [{"name": n, "provider": PROVIDER_NAMES.get(p, p)} for n, p in roles.models],
        "models_sentence": _models_sentence(roles.models),
        "unit": CHARACTERS,
        "has_ai": roles.chars[Origin.AI] > 0,
        "ai_percent": percents[Origin.AI],
        "human_percent": percents[Origin.HUMAN],
        "pasted_percent": percents[Origin.PASTED],
        **declared,
        "imported_percent": percents[Origin.IMPORTED],
        "edited_percent": roles.edited_percent,
        **roles.counts.as_dict(),
        "category": roles.category.label,
    }


def _environment(template_dirs: list[Path]) -> jinja2.Environment:
    loaders = [jinja2.FileSystemLoader(str(d)) for d in template_dirs if d.is_dir()]
    loaders.append(jinja2.FileSystemLoader(str(resources_dir() / "templates")))
    # Plain text out: the exporters escape it for each format.
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # noqa: S701 - plain text, escaped per format by the exporters
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def render_foreword(meta: BookMeta, roles: Roles, template_dirs: list[Path] | None = None) -> str:
    """The generated foreword as plain text, paragraphs separated by blank lines."""
    template = _environment(template_dirs or []).get_template(TEMPLATE)
    text = template.render(**template_context(meta, roles))
    return "\n\n".join(paragraphs(text))


def paragraphs(text: str) -> list[str]:
    """Paragraphs of a plain text: blank lines separate them; inner line breaks become spaces."""
    blocks = re.split(r"\n\s*\n", text.strip())
    return [
        " ".join(line.strip() for line in block.splitlines()).strip()
        for block in blocks
        if block.strip()
    ]


def foreword_facts(roles: Roles) -> ForewordFacts:
    percents = roles.percents
    counts = roles.counts
    return ForewordFacts(
        tuple(dict.fromkeys(name for name, _ in roles.models)) if roles.chars[Origin.AI] else (),
        percents[Origin.AI],
        percents[Origin.HUMAN],
        frozenset(
            {
                *percents.values(),
                roles.elsewhere_percent,
                roles.edited_percent,
                *(roles.pasted_split if roles.declared else ()),
            }
        ),
        counts.passages,
        frozenset(counts.as_dict().values()),
    )


def _number(text: str) -> int:
    return _NUMBER_WORDS.get(text.lower(), 0) if text.isalpha() else int(text.replace(",", ""))


def check_foreword(text: str, facts: ForewordFacts) -> list[str]:
    """What the foreword fails to state, or states wrongly; empty when it may be exported."""
    flat = " ".join(text.split())
    problems = [
        f"it does not name the model {model}"
        for model in facts.models
        if model.lower() not in flat.lower()
    ]
    required = [("the author's share", facts.human_percent)]
    if facts.models or facts.ai_percent:
        required.insert(0, ("the model's share", facts.ai_percent))
    for label, value in required:
        if not re.search(rf"(?<![\d.,]){value}\s?(%|per ?cent)", flat, re.IGNORECASE):
            problems.append(f"it does not state {label} of the characters ({value}%)")
    if facts.percents:
        stated = (
            m.group(1)
            for m in _PERCENT.finditer(flat)
            if not _RESPONSIBLE_AFTER.match(flat, m.end())  # "100% responsible"
        )
        for found in dict.fromkeys(stated):
            if found.replace(",", ".") not in {str(p) for p in facts.percents}:
                measured = ", ".join(f"{p}%" for p in sorted(facts.percents))
                problems.append(
                    f"it states {found}%, which is none of the measured figures ({measured})"
                )
    if _OF_WORDS.search(flat):
        problems.append("it gives shares of the words; the measured shares are of the characters")
    if facts.passages is not None:
        wanted = f"{facts.passages} passage{'s' if facts.passages != 1 else ''}"
        problems.extend(
            f"it says “{m.group(0)}”; the model's text is in {wanted}"
            for m in _PASSAGES.finditer(flat)
            if _number(m.group(1)) != facts.passages
        )
    if facts.counts:
        problems.extend(
            f"it says “{m.group(0)}”, which is none of the measured generation counts"
            for m in _GENERATIONS.finditer(flat)
            if _number(m.group(1)) not in facts.counts
        )
    if not _RESPONSIBILITY.search(flat):
        problems.append("it does not say that the author takes responsibility for the content")
    for pattern, why in _FORBIDDEN:
        if pattern.search(flat):
            problems.append(why)
    return problems
