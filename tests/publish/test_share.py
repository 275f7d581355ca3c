"""Share Passage as labelled text (``coauthor share``, ``coauthor.publish.share``).

Refused while any of the passage is pending review; the text starts with the label naming the
model and who approved it, marks the model's text, ends with the attribution, and each share is
an event in the history."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from coauthor.app.sample import build_sample
from coauthor.core.book import BookMeta
from coauthor.core.chain import ChainReplayer
from coauthor.core.generation import Generation, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.publish.share import AI_CLOSE, AI_OPEN, shared_text
from coauthor.publish.sharecard import card_label
from coauthor.store import ProjectFile


def _load(path: Path):
    project_file = ProjectFile.open(path, readonly=True)
    try:
        return project_file.load()
    finally:
        project_file.close()


def _approve_all(path: Path) -> None:
    project_file = ProjectFile.open(path)
    try:
        project = project_file.load()
        for generation in list(project.generations.values()):
            if generation.review_state is ReviewState.PENDING:
                project.review(generation.id, ReviewState.APPROVED, "Ada Marlowe", shown_ms=1500)
        project_file.flush(project)
    finally:
        project_file.close()


def _ai_chapter(project) -> int:
    return next(
        n
        for n, chapter in enumerate(project.chapters, 1)
        if any(origin is Origin.AI for _, origin, _ in chapter.text.runs())
    )


def test_a_passage_pending_review_is_not_shared(tmp_path: Path, cli) -> None:
    book = build_sample(tmp_path / "s.coauthor")
    project = _load(book)
    pending = next(g for g in project.generations.values() if g.review_state is ReviewState.PENDING)
    number = next(n for n, c in enumerate(project.chapters, 1) if c.id == pending.chapter_id)
    result = cli("share", book, "--chapter", number)

    assert result.returncode == 3
    err = result.stderr.decode()
    assert f"not shared: chapter {number}" in err
    assert f"generation {pending.id}" in err
    assert result.stdout == b""
    assert _load(book).shares == []  # nothing recorded: nothing was shared


def test_the_shared_text_is_labelled_marked_and_attributed(tmp_path: Path, cli) -> None:
    book = build_sample(tmp_path / "s.coauthor")
    _approve_all(book)
    project = _load(book)
    number = _ai_chapter(project)
    chapter = project.chapters[number - 1]

    result = cli("share", book, "--chapter", number)

    assert result.returncode == 0, result.stderr
    text = result.stdout.decode().rstrip("\n")
    first, *_ = text.split("\n\n")
    assert first.startswith("Contains AI-generated text:")
    assert "SmolLM2-135M-Instruct" in first
    assert "reviewed before sharing by Ada Marlowe" in first
    assert text.endswith("— Ada Marlowe, The Tide Clock")
    # Every stretch of model text is between the marks, and nothing else is.
    marked = []
    rest = text.split("\n\n", 1)[1]  # after the label, which names the marks
    while AI_OPEN in rest:
        rest = rest.split(AI_OPEN, 1)[1]
        inside, rest = rest.split(AI_CLOSE, 1)
        marked.append(inside)
    ai = "".join(
        chapter.text.text_in(pos, pos + length)
        for pos, (length, origin, _) in zip(
            _starts(chapter.text.runs()), chapter.text.runs(), strict=True
        )
        if origin is Origin.AI
    )
    assert "".join(marked) == ai
    # The share is an event of the chain: where, which form, the hash of what was handed out.
    again = _load(book)
    (share,) = again.shares
    assert (share.chapter, share.start, share.end, share.form) == (
        chapter.id,
        0,
        len(chapter.text),
        "text",
    )
    assert share.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert cli("verify", book).returncode == 0


def _starts(runs):
    pos = 0
    for length, _, _ in runs:
        yield pos
        pos += length


def test_a_range_without_model_text_is_only_attributed(tmp_path: Path, cli) -> None:
    book = build_sample(tmp_path / "s.coauthor")
    _approve_all(book)
    out = tmp_path / "post.txt"

    result = cli("share", book, "--chapter", "1", "--start", "0", "--end", "20", "--out", out)

    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8") == (
        "Mara kept the tide c\n\n— Ada Marlowe, The Tide Clock"
    )
    assert "no model text" in result.stderr.decode()


def test_a_range_outside_the_chapter_is_one_sentence(tmp_path: Path, cli) -> None:
    book = build_sample(tmp_path / "s.coauthor")
    result = cli("share", book, "--chapter", "1", "--start", "50", "--end", "10")
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "is not a passage of chapter '1'" in err
    assert "Traceback" not in err


def test_a_forged_share_form_is_named_by_the_strict_replay(tmp_path: Path) -> None:
    book = build_sample(tmp_path / "s.coauthor")
    _approve_all(book)
    project = _load(book)
    chapter = project.chapters[0]
    shared = shared_text(project, chapter, 0, 10)
    project.record_share(chapter, 0, 10, "text", shared.sha256)
    events = project.history.seal()
    events[-1].payload = (events[-1].payload or "").replace('"text"', '"video"')
    replayer = ChainReplayer(strict=True)
    for event in events[-1:]:
        replayer.feed(event)
    assert any("unknown form 'video'" in issue.message for issue in replayer.issues)


def test_image_writes_a_labelled_png_card_and_records_an_image_share(tmp_path: Path, cli) -> None:
    from PySide6.QtGui import QColor, QImage

    from coauthor.publish.labels import COLOURS
    from coauthor.publish.sharecard import AI_TINT

    book = build_sample(tmp_path / "s.coauthor")
    _approve_all(book)
    project = _load(book)
    number = _ai_chapter(project)
    chapter = project.chapters[number - 1]
    card = tmp_path / "card.png"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)  # as in a terminal without a display

    result = cli("share", book, "--chapter", number, "--end", 600, "--image", card, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert f"as a card in {card}" in result.stderr.decode()
    data = card.read_bytes()
    assert data.startswith(b"\x89PNG")
    image = QImage(str(card))
    assert image.width() == 1200
    assert image.pixelColor(4, 4) == QColor(COLOURS["ai"])  # the label's band
    tint = QColor(AI_TINT)
    assert any(
        image.pixelColor(x, y) == tint
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
    )
    (share,) = _load(book).shares
    assert (share.chapter, share.start, share.end, share.form) == (chapter.id, 0, 600, "image")
    assert share.sha256 == hashlib.sha256(data).hexdigest()
    assert cli("verify", book).returncode == 0


def test_a_passage_too_long_for_a_card_is_refused_and_not_recorded(tmp_path: Path, cli) -> None:
    book = build_sample(tmp_path / "s.coauthor")
    _approve_all(book)
    project_file = ProjectFile.open(book)
    try:
        project = project_file.load()
        first = project.chapters[0]
        project.insert(first, len(first.text), "\n\nThe keeper wrote on. " * 80, Origin.HUMAN)
        project_file.flush(project)
    finally:
        project_file.close()
    card = tmp_path / "card.png"

    result = cli("share", book, "--chapter", 1, "--image", card)

    assert result.returncode != 0
    assert "a card holds up to 1,500" in result.stderr.decode()
    assert not card.exists()
    assert _load(book).shares == []
    # As text, the same passage is shared.
    assert cli("share", book, "--chapter", 1).returncode == 0


def test_the_label_names_only_who_approved_the_shared_generations() -> None:
    """Each share names the models of its own model text and, as reviewers, only the people
    who approved those generations; with none recorded it says so rather than name anyone."""
    project = Project(BookMeta(title="Names", author="Ann"))
    chapter = project.add_chapter("One")
    project.insert(chapter, 0, "Mine. ", Origin.HUMAN)
    pieces = [("Ann's. ", "g1", "SmolLM2-135M-Instruct.Q4_1.gguf", "Ann")]
    pieces += [("Bob's. ", "g2", "SmolLM2-135M-Instruct (Q4_1)", "Bob")]
    pieces += [("Nobody's.", "g3", "gpt-4o-mini", "")]
    for text, gid, model, reviewer in pieces:
        project.generations[gid] = Generation(
            gid, "embedded", model, review_state=ReviewState.APPROVED, reviewer=reviewer
        )
        project.insert(chapter, len(chapter.text), text, Origin.AI, gid)
    assert "by a language model (SmolLM2-135M-Instruct); reviewed before sharing by Ann." in str(
        shared_text(project, chapter, 6, 13).label
    )
    assert "reviewed before sharing by Ann and Bob." in str(
        shared_text(project, chapter, 0, 20).label
    )
    nobody = shared_text(project, chapter, 20, 29)
    assert "(gpt-4o-mini); reviewed before sharing (no reviewer's name recorded)." in str(
        nobody.label
    )
    assert shared_text(project, chapter, 0, 6).label is None


def test_the_card_names_its_own_marking() -> None:
    """The image shows no [AI] marks: its label says the model's text is tinted and underlined."""
    label = (
        "Contains AI-generated text: the parts between [AI] and [/AI] were drafted by a "
        "language model (m); reviewed before sharing by Ann."
    )
    assert card_label(label) == (
        "Contains AI-generated text: the tinted, underlined parts were drafted by a "
        "language model (m); reviewed before sharing by Ann."
    )
