"""What several export formats say alike, defined once: the origin labels and their colours
and the providers' names (chapter labels, the table of roles and the annotated text are in
``publish.document``, beside the document they read)."""

from __future__ import annotations

__all__ = [
    "AI_DRAFTED",
    "COLOURS",
    "LABELS",
    "PROVIDER_NAMES",
]

AI_DRAFTED = "Drafted by a language model"
"""How the exports name model text whose model they cannot name."""

# Okabe-Ito, safe for the common colour-vision deficiencies; grey for the author's own typing.
COLOURS = {
    "human": "#999999",
    "ai": "#0072B2",
    "pasted": "#E69F00",
    "imported": "#009E73",
    "pending": "#D55E00",
    "declared": "#CC79A7",
}
LABELS = {
    "human": "Written by the author",
    "ai": AI_DRAFTED,
    "pasted": "Pasted from elsewhere",
    "imported": "Imported from files",
    "pending": f"{AI_DRAFTED}, pending review",
    "declared": "Pasted, declared the author's own writing",
}

PROVIDER_NAMES = {
    "embedded": "Coauthor's built-in local model",
    "openai": "OpenAI",
    "compatible": "a self-hosted server",
    "coauthor-study": "the CoAuthor study's interface",
}
"""The providers as the foreword and the report name them."""
