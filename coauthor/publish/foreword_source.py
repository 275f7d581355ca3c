"""Which template a foreword came from, and the foreword a set of figures renders to.

The provenance manifest of an export records the figures the foreword was rendered from
(``foreword.template_context``) and the SHA-256 of the template's source. ``coauthor verify``
renders that template again from the manifest's figures and compares the result with the
foreword the export carries. The wording and the template belong to ``foreword.py``; this
module only finds and renders them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from coauthor.publish.foreword import TEMPLATE, _environment, paragraphs

__all__ = ["foreword_from_figures", "foreword_template_sha256"]


def _source(template_dirs: list[Path] | None) -> str:
    environment = _environment([Path(d) for d in template_dirs or []])
    assert environment.loader is not None
    source, _, _ = environment.loader.get_source(environment, TEMPLATE)
    return source


def foreword_template_sha256(template_dirs: list[Path] | None = None) -> str:
    """SHA-256 (hex) of the foreword template's source that ``render_foreword`` would use."""
    return hashlib.sha256(_source(template_dirs).encode("utf-8", "surrogatepass")).hexdigest()


def foreword_from_figures(figures: Mapping[str, object]) -> list[str]:
    """The paragraphs Coauthor's own foreword template renders from ``figures``."""
    template = _environment([]).get_template(TEMPLATE)
    return paragraphs(template.render(**figures))
