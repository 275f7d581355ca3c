"""Model settings: which provider, which model, the key (kept in the keyring, shown masked).

The key field never shows a stored key: it shows a masked hint, and typing a new key replaces
it in the system keyring. Test Connection gives a plain-language verdict, off the GUI thread.
Settings that would send a key over plain ``http://`` to another computer are not saved (the
client refuses them at request time too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from coauthor.ai import keys
from coauthor.ai.client import ModelClient, Verdict
from coauthor.ai.embedded import EmbeddedServer, default_model_path
from coauthor.ai.errors import ProviderError, insecure_url, redact
from coauthor.ai.service import (
    OPENAI_URL,
    PROVIDER_LABELS,
    ProviderConfig,
    ProviderKind,
    Providers,
)
from coauthor.ui.worker import Job

__all__ = ["ModelSettingsDialog"]


class ModelSettingsDialog(QDialog):
    def __init__(
        self, config: ProviderConfig, embedded: EmbeddedServer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model Settings")
        self.setObjectName("modelSettings")
        self.embedded = embedded
        self._job: Job | None = None
        self.kind = QComboBox()
        for kind, label in PROVIDER_LABELS.items():
            self.kind.addItem(label, kind)
        self.kind.setCurrentIndex(list(PROVIDER_LABELS).index(config.kind))
        self.base_url = QLineEdit(config.base_url)
        self.base_url.setPlaceholderText("http://localhost:11434/v1")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setCurrentText(config.model)
        self.refresh_models = QPushButton("List models")
        self.model_path = QLineEdit(config.model_path)
        default = default_model_path()
        self.model_path.setPlaceholderText(
            str(default) if default else "no default model installed"
        )
        browse = QPushButton("Choose .gguf…")
        browse.clicked.connect(self._choose_gguf)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setObjectName("apiKey")
        self.key_status = QLabel()
        self.key_status.setWordWrap(True)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 600)
        self.timeout.setValue(config.timeout)
        self.timeout.setSuffix(" s")
        self.context = QSpinBox()
        self.context.setRange(256, 1_000_000)
        self.context.setValue(config.context_tokens)
        self.context.setSuffix(" tokens")
        self.test_button = QPushButton("Test Connection")
        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        models_row = QHBoxLayout()
        models_row.addWidget(self.model, 1)
        models_row.addWidget(self.refresh_models)
        gguf_row = QHBoxLayout()
        gguf_row.addWidget(self.model_path, 1)
        gguf_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Provider:", self.kind)
        form.addRow("Server address:", self.base_url)
        form.addRow("Model:", models_row)
        form.addRow("Local model file:", gguf_row)
        form.addRow("API key:", self.key)
        form.addRow("", self.key_status)
        form.addRow("Timeout:", self.timeout)
        form.addRow("Context window:", self.context)
        self._rows = {
            "base_url": self.base_url,
            "model": self.model,
            "gguf": self.model_path,
            "key": self.key,
        }
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.verdict)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._update_fields)
        self.test_button.clicked.connect(self.test_connection)
        self.refresh_models.clicked.connect(self.list_models)
        self._update_fields()

    # -- state ------------------------------------------------------------------------------

    def config(self) -> ProviderConfig:
        return ProviderConfig(
            ProviderKind(self.kind.currentData()),
            self.base_url.text().strip(),
            self.model.currentText().strip(),
            self.model_path.text().strip(),
            self.timeout.value(),
            self.context.value(),
        )

    def _update_fields(self) -> None:
        kind = ProviderKind(self.kind.currentData())
        embedded = kind is ProviderKind.EMBEDDED
        self.base_url.setEnabled(kind is ProviderKind.COMPATIBLE)
        self.model.setEnabled(not embedded)
        self.refresh_models.setEnabled(not embedded)
        self.model_path.setEnabled(embedded)
        self.key.setEnabled(not embedded)
        available, message = keys.keyring_status()
        config = self.config()
        if embedded:
            self.key_status.setText("The local model needs no key. " + self.embedded.status())
            self.key.setPlaceholderText("")
            return
        stored, source = keys.get_key(config.key_account)
        hint = {
            "keyring": f"A key is stored in the system keyring ({keys.mask(stored)}); type a new one to replace it.",
            "environment": f"Using {keys.ENV_VARIABLE} from the environment ({keys.mask(stored)}).",
        }.get(
            source,
            "No key is stored."
            + (" Optional for most local servers." if kind is ProviderKind.COMPATIBLE else ""),
        )
        self.key.setPlaceholderText(keys.mask(stored) if stored else "paste a key")
        self.key_status.setText(hint if available else f"{hint} {message}")

    def _choose_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a GGUF model", str(Path.home()), "GGUF models (*.gguf)"
        )
        if path:
            self.model_path.setText(path)

    def _store_key(self) -> bool:
        key = self.key.text().strip()
        if not key:
            return True
        try:
            keys.set_key(self.config().key_account, key)
        except keys.KeyringUnavailable as exc:
            self.key_status.setText(str(exc))
            return False
        self.key.clear()
        return True

    def refusal(self) -> str | None:
        """Why these settings must not be used: a key (typed, stored or from the environment)
        would go over plain ``http://`` to another computer; None when they may."""
        config = self.config()
        if config.kind is ProviderKind.EMBEDDED:
            return None
        key = self.key.text().strip() or keys.get_key(config.key_account)[0]
        base = config.base_url or (OPENAI_URL if config.kind is ProviderKind.OPENAI else "")
        return insecure_url(base, key) if base else None

    def _save(self) -> None:
        refusal = self.refusal()
        if refusal is not None:
            self.verdict.setText(f"✗ {refusal}")
            return
        if self._store_key():
            self.accept()

    # -- checks off the GUI thread ----------------------------------------------------------

    def _run(self, work: Callable[[], Verdict], done: Callable[[Verdict], None]) -> None:
        if self._job is not None and self._job.running:
            return
        self.verdict.setText("Checking…")

        def job(_report: Callable[[object], None], _cancel: threading.Event) -> Verdict:
            return work()

        self._job = Job(job, self)
        self._job.finished.connect(done)
        key = self.key.text().strip()
        self._job.failed.connect(lambda message: self.verdict.setText(f"✗ {redact(message, key)}"))
        self._job.start()

    def _check(self) -> Callable[[], Verdict]:
        """A connection check with the settings as typed (including an unsaved key)."""
        config = self.config()
        typed_key = self.key.text().strip()
        refusal = self.refusal()

        def work() -> Verdict:
            if refusal is not None:
                return Verdict(False, refusal)
            try:
                if typed_key and config.kind is not ProviderKind.EMBEDDED:
                    base = config.base_url or OPENAI_URL
                    client = ModelClient(base, typed_key, config.model, timeout=config.timeout)
                else:
                    client = Providers(config, self.embedded).client()
                try:
                    return client.test_connection()
                finally:
                    client.close()
            except ProviderError as exc:
                return Verdict(False, str(exc))

        return work

    def test_connection(self) -> None:
        self._run(self._check(), self._show_verdict)

    def list_models(self) -> None:
        self._run(self._check(), self._fill_models)

    def _show_verdict(self, verdict: Verdict) -> None:
        self.verdict.setText(("✓ " if verdict.ok else "✗ ") + verdict.message)
        self._update_fields()

    def _fill_models(self, verdict: Verdict) -> None:
        current = self.model.currentText()
        self.model.clear()
        self.model.addItems(list(verdict.models))
        self.model.setCurrentText(current or (verdict.models[0] if verdict.models else ""))
        self._show_verdict(verdict)

    def wait_for_checks(self, ms: int = 30_000) -> None:
        if self._job is not None:
            self._job.wait(ms)
