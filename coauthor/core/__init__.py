"""The domain of Coauthor in pure Python: provenance text, book, generations, history, roles.

Nothing here imports Qt, so the command line, the exporters and the tests run without a display.
"""

from __future__ import annotations

from coauthor.core.origin import Origin
from coauthor.core.provenance import Fragment, ProvenanceText, Run

__all__ = ["Fragment", "Origin", "ProvenanceText", "Run"]
