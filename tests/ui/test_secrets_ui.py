"""Secrets in the real window: Model Settings refuses to send a key over plain http to another
computer, and an export whose moderation service failed says that the offline checker
screened the text instead (a warning, the status bar, the provenance report)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from moderation_server import ModerationServer  # tests/ai, on the path (tests/conftest.py)
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPushButton

from coauthor.ai.service import ProviderConfig, ProviderKind
from coauthor.app.export import ExportFormat, ExportOptions
from coauthor.core.generation import ReviewState
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.modelsettings import ModelSettingsDialog
from coauthor.ui.settings import AppSettings

KEY = "sk-proj-Qz7Xw4Rt9Yp2Lm5Nb8Vc3Hd6Jf1Gk0"
REMOTE = "http://192.0.2.10:8080/v1"
REFUSAL = (
    "Coauthor will not send the API key to 192.0.2.10 over plain http://, where anyone on the "
    "network could read it; use its https:// address."
)


@pytest.fixture
def moderation() -> Iterator[ModerationServer]:
    server = ModerationServer().start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.errors, f"the moderation server failed: {server.errors}"


def save_button(dialog: QDialog) -> QPushButton:
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    button = box.button(QDialogButtonBox.StandardButton.Save)
    assert button is not None
    return button


def settings_dialog(window: MainWindow, url: str) -> ModelSettingsDialog:
    config = ProviderConfig(kind=ProviderKind.COMPATIBLE, base_url=url, model="m", timeout=3)
    return ModelSettingsDialog(config, window.ai.providers.embedded, window)


def test_settings_with_a_key_for_a_plain_http_remote_server_are_not_saved(
    window: MainWindow, memory_keyring, qtbot
) -> None:
    dialog = settings_dialog(window, REMOTE)
    QTest.keyClicks(dialog.key, KEY)
    save_button(dialog).click()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.verdict.text() == f"✗ {REFUSAL}"
    assert memory_keyring.keys == {}  # the key was not stored either

    # Test Connection says the same, without sending anything.
    dialog.test_button.click()
    dialog.wait_for_checks()
    qtbot.waitUntil(lambda: dialog.verdict.text().startswith("✗ Coauthor"), timeout=5000)
    assert dialog.verdict.text() == f"✗ {REFUSAL}"

    # The same server over https, or a server on this computer over http, is fine.
    for url in ("https://192.0.2.10:8080/v1", "http://127.0.0.1:11434/v1"):
        dialog = settings_dialog(window, url)
        QTest.keyClicks(dialog.key, KEY)
        save_button(dialog).click()
        assert dialog.result() == QDialog.DialogCode.Accepted, url


def test_a_stored_key_counts_too_and_no_key_is_fine(
    window: MainWindow, memory_keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = settings_dialog(window, REMOTE)
    save_button(dialog).click()  # no key anywhere: a local-network server without a key
    assert dialog.result() == QDialog.DialogCode.Accepted

    memory_keyring.keys[("Coauthor", f"compatible:{REMOTE}")] = KEY
    dialog = settings_dialog(window, REMOTE)
    save_button(dialog).click()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.verdict.text() == f"✗ {REFUSAL}"

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    openai = ProviderConfig(kind=ProviderKind.OPENAI, base_url="http://api.example.com/v1")
    dialog = ModelSettingsDialog(openai, window.ai.providers.embedded, window)
    assert dialog.refusal() is not None
    assert "api.example.com" in (dialog.refusal() or "")


def test_an_export_whose_moderation_failed_says_the_offline_checker_screened_it(
    window: MainWindow,
    no_keyring: None,
    moderation: ModerationServer,
    app_settings: AppSettings,
    dialogs,
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
    tmp_path: Path,
) -> None:
    app_settings.reviewer_name = "Tester"
    window.ai.go_to_generation("g2")
    assert window.ai.approve("g2")
    assert window.project is not None
    assert window.project.generations["g2"].review_state is ReviewState.APPROVED
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    window.ai.providers.config = ProviderConfig(kind=ProviderKind.OPENAI, base_url=moderation.url)
    moderation.script("500", "500", "500")
    dialogs.expect("warning")

    target = tmp_path / "report.html"
    assert window.publish.export(ExportFormat.REPORT, target, ExportOptions())
    started = time.monotonic()
    window.publish.wait()  # screening runs in the export's worker; its warning follows
    assert time.monotonic() - started < 20
    qtbot.waitUntil(lambda: bool(dialogs.of("warning")), timeout=5000)
    statement = (
        f"OpenAI moderation failed (127.0.0.1:{moderation.port} answered HTTP 500 after 3 "
        "tries); the offline checker screened the text instead."
    )
    [warning] = dialogs.of("warning")
    assert warning.title == "Screened Offline"
    assert warning.text.startswith(statement)
    assert "failed with HTTP 500 after 3 tries" in warning.text
    assert "its provenance report says so" in warning.text
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage().startswith(f"Exported to {target}"),
        timeout=2000,
    )
    assert window.statusBar().currentMessage().endswith(statement)
    html = target.read_text(encoding="utf-8")
    assert f"Content screening for this export: {statement}" in html
    assert [r.authorization for r in moderation.moderations] == [f"Bearer {KEY}"] * 3

    # Screen Content with nothing flagged says so too, not just in the status bar.
    moderation.script("500", "500", "500")
    assert window.publish.screen_content()
    window.publish.wait()
    qtbot.waitUntil(lambda: window.publish.screening is not None, timeout=5000)
    summary = window.publish.screening
    assert summary is not None
    assert summary.fell_back
    assert summary.flags == []
    assert len(dialogs.of("warning")) == 2
    assert dialogs.of("warning")[1].text.startswith(statement)


def test_screen_content_keeps_the_window_responsive_while_moderation_is_slow(
    window: MainWindow,
    no_keyring: None,
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
) -> None:
    """Book ▸ Screen Content runs in a worker job: while the moderation service takes its
    time, the GUI thread goes on handling events, and the result arrives afterwards."""
    server = ModerationServer(delay=1.5).start()
    try:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        window.ai.providers.config = ProviderConfig(kind=ProviderKind.OPENAI, base_url=server.url)
        server.script("timeout")  # the first request is answered after 1.5 s
        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(20)
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start()
        started = time.monotonic()
        assert window.publish.screen_content()
        assert time.monotonic() - started < 0.5  # it returns at once
        qtbot.waitUntil(lambda: window.publish.screening is not None, timeout=20_000)
        timer.stop()
        assert time.monotonic() - started >= 1.4
        during = [t for t in ticks if t < started + 1.4]
        assert len(during) >= 20, "the GUI thread stopped handling events"
        assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.5
        summary = window.publish.screening
        assert summary is not None
        assert not summary.fell_back
        assert server.moderations
        assert window.publish.screen_progress is not None
        assert not window.publish.screen_progress.isVisible()
    finally:
        server.stop()
    assert not server.errors
