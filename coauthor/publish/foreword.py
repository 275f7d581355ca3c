"""The foreword: rendered from the measured roles through a Jinja2 template, and checked.

The default template is ``resources/templates/foreword.txt.j2``; a file of the same name in a
user templates folder overrides it. An author may reword the foreword; ``check_foreword`` then
lists what the reworded text no longer states (the models, the shares, the responsibility) or
wrongly states (a wholly human or wholly machine-written work), and export refuses until it is
fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from coauthor.core.book import BookMeta
from coauthor.core.origin import Origin
from coauthor.publish.roles import Roles
from coauthor.sample import resources_dir

__all__ = ["ForewordFacts", "check_foreword", "foreword_facts", "paragraphs", "render_foreword"]

TEMPLATE = "foreword.txt.j2"

_PROVIDER_NAMES = {
    "embedded": "Coauthor's built-in local model",
    "openai": "OpenAI",
    "compatible": "a self-hosted server",
    "coauthor-study": "the CoAuthor study's interface",
}

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


@dataclass(frozen=True)
class ForewordFacts:
    """What any foreword, generated or reworded, must state."""

    models: tuple[str, ...]
    ai_percent: int
    human_percent: int


def _author(meta: BookMeta) -> str:
    return meta.author or meta.company or "the author"


def _models_sentence(models: list[tuple[str, str]]) -> str:
    parts = [
        f"{name} (through {_PROVIDER_NAMES.get(provider, provider)})" for name, provider in models
    ]
    if not parts:
        return "a language model"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def template_context(meta: BookMeta, roles: Roles) -> dict[str, object]:
    return {
        "title": meta.title,
        "author": _author(meta),
        "company": meta.company if meta.author and meta.company else "",
        "models": [{"name": n, "provider": _PROVIDER_NAMES.get(p, p)} for n, p in roles.models],
        "models_sentence": _models_sentence(roles.models),
        "ai_percent": roles.percent(Origin.AI),
        "human_percent": roles.percent(Origin.HUMAN),
        "pasted_percent": roles.percent(Origin.PASTED),
        "imported_percent": roles.percent(Origin.IMPORTED),
        "edited_percent": round(100 * roles.edited_share),
        "requested": roles.requested,
        "inserted": roles.inserted,
        "approved": roles.approved,
        "rejected": roles.rejected,
        "pending": roles.pending,
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
    return ForewordFacts(
        tuple(name for name, _ in roles.models) if roles.chars[Origin.AI] else (),
        roles.percent(Origin.AI),
        roles.percent(Origin.HUMAN),
    )


def check_foreword(text: str, facts: ForewordFacts) -> list[str]:
    """What the foreword fails to state, or states wrongly; empty when it may be exported."""
    flat = " ".join(text.split())
    problems = [
        f"it does not name the model {model}"
        for model in facts.models
        if model.lower() not in flat.lower()
    ]
    for label, value in (
        ("the model's share", facts.ai_percent),
        ("the author's share", facts.human_percent),
    ):
        if not re.search(rf"(?<!\d){value}\s?(%|per ?cent)", flat, re.IGNORECASE):
            problems.append(f"it does not state {label} of the text ({value}%)")
    if not _RESPONSIBILITY.search(flat):
        problems.append("it does not say that the author takes responsibility for the content")
    for pattern, why in _FORBIDDEN:
        if pattern.search(flat):
            problems.append(why)
    return problems
