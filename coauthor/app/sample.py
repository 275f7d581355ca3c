"""Build the sample book from ``resources/sample/sample-book.json``.

The sample is a script of author actions (type, import, paste, generate, edit, review) replayed
through the same ``Project`` methods the editor uses, so the sample's provenance, history and
generation records are real, including one passage still pending review.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from coauthor.core.book import BookMeta, ImportRecord
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.core.resources import resources_dir
from coauthor.store import ProjectFile

__all__ = ["SAMPLE_SCRIPT", "build_sample"]


SAMPLE_SCRIPT = "sample/sample-book.json"


def _apply_steps(project: Project, chapter_index: int, steps: list[dict]) -> None:
    chapter = project.chapters[chapter_index]
    for step in steps:
        kind = step["type"]
        end = len(chapter.text)
        if kind == "type":
            project.insert(chapter, end, step["text"], Origin.HUMAN)
        elif kind == "paste":
            project.insert(chapter, end, step["text"], Origin.PASTED)
        elif kind == "import":
            data = step["text"].encode()
            record = project.add_import(
                ImportRecord(
                    project.new_import_id(),
                    step["source"],
                    "markdown",
                    bool(step.get("own_writing")),
                    "utf-8",
                    hashlib.sha256(data).hexdigest(),
                    project.clock(),
                )
            )
            project.insert(chapter, end, step["text"], Origin.IMPORTED, record.id)
        elif kind == "generate":
            now = project.clock()
            generation = project.add_generation(
                Generation(
                    project.new_generation_id(),
                    step["provider"],
                    step["model"],
                    dict(step.get("parameters", {})),
                    list(step.get("messages", [])),
                    step["output"],
                    Outcome.COMPLETE,
                    now,
                    now,
                    chapter.id,
                )
            )
            project.insert(chapter, end, step["output"], Origin.AI, generation.id)
            _apply_steps(project, chapter_index, step.get("then", []))
            state = ReviewState(step.get("review", "pending"))
            if state is not ReviewState.PENDING:
                project.review(
                    generation.id,
                    state,
                    step.get("reviewer", project.meta.author),
                    shown_ms=int(step.get("shown_ms", 45_000)),  # the sample's scripted reading
                )
        elif kind == "replace":
            at = chapter.text.text.index(step["find"])
            project.replace(chapter, at, len(step["find"]), step["text"], Origin.HUMAN)
        else:
            raise ValueError(f"unknown sample step {kind!r}")


def build_sample(target: Path, script: Path | None = None) -> Path:
    """Write the sample project to ``target`` (replacing it) and return its path."""
    script = script or resources_dir() / SAMPLE_SCRIPT
    data = json.loads(script.read_text(encoding="utf-8"))
    meta = BookMeta.from_dict(data["meta"])
    project_file = ProjectFile.create(target, meta, overwrite=True)
    project = Project(meta)
    for index, chapter_data in enumerate(data["chapters"]):
        project.add_chapter(chapter_data["title"])
        _apply_steps(project, index, chapter_data["steps"])
    project_file.flush(project)
    project_file.close(project)
    return target
