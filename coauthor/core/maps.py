"""Provenance profiles: a text cut into equal segments, with characters by origin in each.

The overview strip beside the editor and the book map draw these; the HTML report uses them
for its heatmap. One pass over the runs, whatever the number of segments.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

from coauthor.core.origin import Origin
from coauthor.core.provenance import ProvenanceText

__all__ = ["Segment", "segment_profile"]


@dataclass
class Segment:
    start: int
    end: int
    counts: dict[Origin, int] = field(default_factory=lambda: dict.fromkeys(Origin, 0))
    pending: int = 0

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def ai_share(self) -> float:
        return self.counts[Origin.AI] / self.length if self.length else 0.0

    @property
    def dominant(self) -> Origin | None:
        if not self.length:
            return None
        return max(Origin, key=lambda origin: self.counts[origin])


def segment_profile(
    text: ProvenanceText, segments: int, pending_refs: Container[str] = ()
) -> list[Segment]:
    """Cut ``text`` into ``segments`` near-equal parts (fewer if it is shorter)."""
    total = len(text)
    segments = max(1, min(segments, total)) if total else 1
    bounds = [total * i // segments for i in range(segments + 1)]
    result = [Segment(bounds[i], bounds[i + 1]) for i in range(segments)]
    index = 0
    pos = 0
    for length, origin, ref in text.runs():
        end = pos + length
        while pos < end:
            segment = result[index]
            take = min(end, segment.end) - pos
            segment.counts[origin] += take
            if origin is Origin.AI and ref is not None and ref in pending_refs:
                segment.pending += take
            pos += take
            if pos >= segment.end and index + 1 < len(result):
                index += 1
    return result
