"""One display identity per model, whatever string a provider recorded for it.

A generation records the model as its provider named it: the embedded server gives its file
name (``SmolLM2-135M-Instruct.Q4_1.gguf``), the sample book says ``SmolLM2-135M-Instruct
(Q4_1)``, an Ollama server ``hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M``, a vLLM server
``meta-llama/Llama-3.1-8B-Instruct``. Every view that names a model (the foreword, the exports,
the report, the status bar, the AI panel, the review queue) shows ``model_identity`` of it, so one
model is named one way. The recorded string itself is kept, and the provenance report shows it
beside the identity when they differ.

The identity is the recorded string without folders (``/`` or ``\\``), without a weights file
extension (``.gguf``, ``.ggml``, ``.bin``, ``.safetensors``), without a quantisation or
precision suffix (``.Q4_1``, `` (Q4_1)``, ``-q4_K_M``, ``:Q8_0``, ``-f16``, ``IQ2_XXS``), without
a ``-GGUF`` repository suffix and without Ollama's ``:latest`` tag, stripped of surrounding
whitespace. It is a pure function of the string: the same input always gives the same identity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from coauthor.core.generation import Generation

__all__ = ["UNNAMED_MODEL", "model_identity", "models_used"]

UNNAMED_MODEL = "an unnamed model"

_EXTENSION = re.compile(r"\.(gguf|ggml|bin|safetensors)$", re.IGNORECASE)
_QUANT = r"(?:i?q\d+(?:_[a-z0-9]+)*|b?fp?(?:16|32)|int[48]|gguf|latest)"
_BRACKETED = re.compile(rf"\s*[(\[]\s*{_QUANT}\s*[)\]]$", re.IGNORECASE)
_SUFFIX = re.compile(rf"[\s._:-]+{_QUANT}$", re.IGNORECASE)


def model_identity(model: str, provider: str = "") -> str:
    """The one name shown for ``model`` (as recorded by ``provider``) in every view.

    ``provider`` only matters when the recorded name is empty; such a model is
    ``UNNAMED_MODEL``, whichever provider served it.
    """
    del provider  # the identity is the model's; the provider is shown beside it
    name = model.strip()
    parts = [part for part in re.split(r"[/\\]", name) if part.strip()]
    name = parts[-1].strip() if parts else ""
    while True:
        shorter = _EXTENSION.sub("", name)
        shorter = _BRACKETED.sub("", shorter)
        shorter = _SUFFIX.sub("", shorter).strip()
        if shorter == name or not shorter:
            break
        name = shorter
    return name or UNNAMED_MODEL


def models_used(generations: Iterable[Generation]) -> list[tuple[str, str]]:
    """The distinct (identity, provider) pairs of ``generations``, sorted."""
    return sorted({(model_identity(g.model, g.provider), g.provider) for g in generations})
