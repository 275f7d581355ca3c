"""Publishing in the real window: book details, the foreword, content screening and exports.

Every export takes the path of ``coauthor export``: screening, the review gate, the foreword
check, then the file, written by a background job. A refusal shows its dialog and writes
nothing. Dialogs are driven through a replaced ``exec`` (they would block the test).
"""

from __future__ import annotations

import subprocess
import time
import zipfile
from pathlib import Path

import docx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QInputDialog, QPushButton

from coauthor.app.export import ExportFormat, ExportOptions, ScreeningSummary
from coauthor.core.book import BookMeta
from coauthor.core.generation import ReviewState
from coauthor.core.policy import generation_ranges
from coauthor.ui.mainwindow import MainWindow
from coauthor.ui.publishing import (
    BookDetailsDialog,
    ExportDialog,
    ForewordDialog,
    ScreeningDialog,
)
from coauthor.ui.review import GateDialog
from coauthor.ui.settings import AppSettings

MODEL = "SmolLM2-135M-Instruct"  # model_identity of the recorded "SmolLM2-135M-Instruct (Q4_1)"
THREAT = "Kill yourself, nobody would miss you."
REASON = "A line of dialogue spoken by the villain of the story, not addressed to any reader"
ACCEPTED = QDialog.DialogCode.Accepted
EXPORT_WAIT_MS = 30_000


@pytest.fixture
def reviewer(app_settings: AppSettings) -> str:
    app_settings.reviewer_name = "Tester"
    return "Tester"


def approve_g2(window: MainWindow) -> None:
    window.ai.go_to_generation("g2")
    assert window.ai.approve("g2")
    assert window.project is not None
    assert window.project.generations["g2"].review_state is ReviewState.APPROVED


def save_button(dialog: QDialog) -> QPushButton:
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    button = box.button(QDialogButtonBox.StandardButton.Save)
    assert button is not None
    return button


def button_named(dialog: QDialog, text: str) -> QPushButton:
    [button] = [b for b in dialog.findChildren(QPushButton) if b.text() == text]
    return button


def capture(monkeypatch: pytest.MonkeyPatch, cls: type[QDialog], act=None) -> list:
    """Replace ``cls.exec``: record each dialog, let ``act`` drive it, return its result."""
    shown: list = []

    def exec_(dialog: QDialog) -> int:
        shown.append(dialog)
        if act is not None:
            act(dialog)
        return dialog.result()

    monkeypatch.setattr(cls, "exec", exec_)
    return shown


def refused(window: MainWindow, qtbot, fmt: ExportFormat, target: Path) -> bool:
    """Export, wait for the worker job; whether it was refused (its dialog is shown on the
    GUI thread once the worker reports)."""
    assert window.publish.export(fmt, target, ExportOptions())
    window.publish.wait()
    qtbot.waitUntil(lambda: window.publish.outcome is not None, timeout=5000)
    return window.publish.outcome == "refused"


def screened(window: MainWindow, qtbot) -> ScreeningSummary:
    """Screen Content, wait for its worker job; the summary (its dialog is shown on the GUI
    thread once the worker returns)."""
    assert window.publish.screen_content()
    window.publish.wait()
    qtbot.waitUntil(lambda: window.publish.screening is not None, timeout=5000)
    summary = window.publish.screening
    assert summary is not None
    return summary


def export_now(window: MainWindow, qtbot, fmt: ExportFormat, target: Path) -> Path:
    """Export and wait for the background job to write the file."""
    assert window.publish.export(fmt, target, ExportOptions())
    job = window.publish.job
    assert job is not None
    started = time.monotonic()
    window.publish.wait()  # returns once the file is written (it waits 30 s at most)
    assert time.monotonic() - started < 20
    assert target.exists()
    assert not job.running
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage().startswith(f"Exported to {target}"),
        timeout=2000,
    )
    assert window.publish.progress is not None
    assert not window.publish.progress.isVisible()
    return target


def assert_valid_epub(path: Path) -> None:
    with zipfile.ZipFile(path) as book:
        first = book.infolist()[0]
        assert first.filename == "mimetype"
        assert first.compress_type == zipfile.ZIP_STORED
        assert book.read("mimetype") == b"application/epub+zip"
        assert book.testzip() is None
        assert "META-INF/container.xml" in book.namelist()


# -- book details -------------------------------------------------------------------------------


def test_book_details_update_the_book(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    def fill(dialog: BookDetailsDialog) -> None:
        assert dialog.fields["title"].text() == "The Tide Clock"
        assert dialog.fields["author"].text() == "Ada Marlowe"
        dialog.fields["title"].setText("  The Tide Clock, Revised ")
        dialog.fields["company"].setText("Saltreach Press")
        dialog.fields["language"].setText("en-US")
        dialog.synopsis.setPlainText("A keeper, a clock and a storm.")
        save_button(dialog).click()

    shown = capture(monkeypatch, BookDetailsDialog, fill)
    window.publish.edit_details()
    [dialog] = shown
    assert dialog.result() == ACCEPTED
    project = window.project
    assert project is not None
    meta = project.meta
    assert meta.title == "The Tide Clock, Revised"
    assert meta.author == "Ada Marlowe"
    assert meta.company == "Saltreach Press"
    assert meta.language == "en-US"
    assert meta.synopsis == "A keeper, a clock and a storm."
    assert meta.description.startswith("A short sample")  # untouched fields are kept
    assert window.windowTitle() == "The Tide Clock, Revised — Coauthor"


def test_book_details_refuse_an_empty_title_or_no_author(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:
    dialog = BookDetailsDialog(BookMeta(title="Draft", author="Ada"), window)
    dialog.show()
    qtbot.waitExposed(dialog)
    save = save_button(dialog)

    dialog.fields["title"].setText("   ")
    save.click()
    assert dialog.result() != ACCEPTED
    assert dialog.isVisible()
    assert "title" in dialog.error.text()

    dialog.fields["title"].setText("Draft")
    dialog.fields["author"].setText("")
    dialog.fields["company"].setText("")
    save.click()
    assert dialog.result() != ACCEPTED
    assert "author or a company" in dialog.error.text()

    dialog.fields["company"].setText("Saltreach Press")
    dialog.fields["cover"].setText(str(tmp_path / "missing.png"))
    save.click()
    assert dialog.result() != ACCEPTED
    assert "missing.png" in dialog.error.text()

    dialog.fields["cover"].setText("")
    save.click()
    assert dialog.result() == ACCEPTED
    assert dialog.result_meta().company == "Saltreach Press"
    assert dialog.result_meta().author == ""


# -- the foreword -------------------------------------------------------------------------------


def test_a_reworded_foreword_without_the_model_is_flagged_and_refused_at_export(
    window: MainWindow,
    reviewer: str,
    dialogs,
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
    tmp_path: Path,
    screenshot_dir: Path,
) -> None:
    approve_g2(window)
    seen: dict[str, str] = {}

    def reword(dialog: ForewordDialog) -> None:
        dialog.show()
        qtbot.waitExposed(dialog)
        seen["shown"] = dialog.editor.toPlainText()
        seen["status"] = dialog.problems.text()
        dialog.grab().save(str(screenshot_dir / "foreword.png"))
        dialog.editor.setPlainText(dialog.generated.replace(MODEL, "a small language model"))
        seen["problems"] = dialog.problems.text()
        save_button(dialog).click()

    shown = capture(monkeypatch, ForewordDialog, reword)
    window.publish.edit_foreword()
    [dialog] = shown

    generated = dialog.generated
    assert seen["shown"] == generated
    assert MODEL in generated
    assert "Ada Marlowe" in generated
    assert "responsibility" in generated
    assert seen["status"] == "This is the generated foreword."
    assert seen["problems"].startswith("⚠ Export will refuse this wording")
    assert f"it does not name the model {MODEL}" in seen["problems"]
    assert (screenshot_dir / "foreword.png").stat().st_size > 0
    project = window.project
    assert project is not None
    assert project.meta.foreword == generated.replace(MODEL, "a small language model")

    dialogs.expect("critical")
    target = tmp_path / "x.epub"
    assert refused(window, qtbot, ExportFormat.EPUB, target)
    [error] = dialogs.of("critical")
    assert error.title == "The foreword needs attention"
    assert f"does not name the model {MODEL}" in error.text
    assert not target.exists()
    assert list(tmp_path.glob("*.epub*")) == []


# -- the review gate and exports ----------------------------------------------------------------


def test_export_is_refused_while_text_is_pending_then_writes_an_epub(
    window: MainWindow, reviewer: str, monkeypatch: pytest.MonkeyPatch, qtbot, tmp_path: Path
) -> None:
    refusals = capture(monkeypatch, GateDialog)
    target = tmp_path / "x.epub"
    assert refused(window, qtbot, ExportFormat.EPUB, target)
    [gate] = refusals
    assert gate.windowTitle() == "Export to epub: review needed"
    assert gate.list.count() == 1
    assert "generation g2" in gate.list.item(0).text()
    assert "The Storm" in gate.list.item(0).text()
    assert not target.exists()
    assert not any(p.suffix in (".epub", ".part") for p in tmp_path.iterdir())

    approve_g2(window)
    export_now(window, qtbot, ExportFormat.EPUB, target)
    assert len(refusals) == 1
    assert_valid_epub(target)


def test_screening_blocks_export_until_an_override_with_a_reason_is_recorded(
    window: MainWindow, reviewer: str, monkeypatch: pytest.MonkeyPatch, qtbot, tmp_path: Path
) -> None:
    approve_g2(window)
    project = window.project
    assert project is not None
    chapter = project.chapters[0]
    window.ai.go_to_range(chapter.id, len(chapter.text), len(chapter.text))
    assert window.chapter is chapter
    QTest.keyClicks(window.editor, THREAT)
    assert chapter.text.text.endswith("\n\n" + THREAT)

    plan: list[str | None] = []

    def act(dialog: ScreeningDialog) -> None:
        action = plan.pop(0)
        if action == "override":
            button_named(dialog, "Override with a Reason…").click()

    screenings = capture(monkeypatch, ScreeningDialog, act)
    asked: list[str] = []

    def get_reason(_parent, _title: str, label: str, *_args, **_kwargs) -> tuple[str, bool]:
        asked.append(label)
        return REASON, True

    monkeypatch.setattr(QInputDialog, "getMultiLineText", staticmethod(get_reason))

    # Screen Content lists the passage.
    plan.append(None)
    summary = screened(window, qtbot)
    [flag] = summary.flags
    assert "harassment" in flag.categories
    assert chapter.text.text[flag.start : flag.end] == THREAT
    [dialog] = screenings
    assert dialog.list.count() == 1
    line = dialog.list.item(0).text()
    assert line.startswith("The Keeper, characters ")
    assert "harassment" in line
    assert "blocks export" in line

    # Export is refused and shows the screening again; the author records an override.
    target = tmp_path / "x.epub"
    plan.append("override")
    assert refused(window, qtbot, ExportFormat.EPUB, target)
    assert len(screenings) == 2
    assert not target.exists()
    [question] = asked
    assert "harassment" in question
    [override] = project.overrides.values()
    assert override.reason == REASON
    assert override.reviewer == reviewer
    assert override.categories == flag.categories

    # Now the export goes through, and the provenance report keeps the reason.
    export_now(window, qtbot, ExportFormat.EPUB, target)
    assert_valid_epub(target)
    report = export_now(window, qtbot, ExportFormat.REPORT, tmp_path / "report.html")
    html = report.read_text(encoding="utf-8")
    assert REASON in html
    assert reviewer in html
    assert len(screenings) == 2  # nothing more to screen after the override

    # Screening again shows the passage as overridden.
    plan.append(None)
    screened(window, qtbot)
    assert f"overridden: {REASON}" in screenings[-1].list.item(0).text()


def test_exports_use_the_templates_in_the_data_folder(
    window: MainWindow, reviewer: str, app_settings: AppSettings, qtbot, tmp_path: Path
) -> None:
    """A report template in the user's templates folder is used, as ``coauthor export`` does."""
    folder = app_settings.data_dir / "templates"
    folder.mkdir()
    (folder / "report.html.j2").write_text(
        "<html><body><h1>House report for {{ title }}</h1></body></html>", encoding="utf-8"
    )
    approve_g2(window)
    report = export_now(window, qtbot, ExportFormat.REPORT, tmp_path / "report.html")
    assert "House report for The Tide Clock" in report.read_text(encoding="utf-8")


def test_an_export_from_the_app_is_signed_and_verifies(
    window: MainWindow, reviewer: str, memory_keyring, qtbot, tmp_path: Path, cli
) -> None:
    approve_g2(window)
    target = tmp_path / "signed.epub"
    export_now(window, qtbot, ExportFormat.EPUB, target)
    message = window.statusBar().currentMessage()
    assert ", signed by " in message
    project = window.project
    assert project is not None
    [key] = project.signing_keys.values()  # recorded in the chain before the manifest
    assert key.fingerprint in message
    result = cli("verify", target)
    assert result.returncode == 0, result.stderr
    assert key.fingerprint in result.stdout.decode()
    # The private key is in the keyring only: not in the project file, not in the export.
    private = next(v for (_, account), v in memory_keyring.keys.items() if "signing" in account)
    assert window.session is not None
    assert private.encode() not in window.session.path.read_bytes()
    assert private.encode() not in target.read_bytes()


def test_without_a_keyring_the_app_exports_unsigned_and_says_so(
    window: MainWindow, reviewer: str, no_keyring, qtbot, tmp_path: Path, cli
) -> None:
    approve_g2(window)
    target = tmp_path / "unsigned.html"
    export_now(window, qtbot, ExportFormat.HTML, target)
    assert "not signed" in window.statusBar().currentMessage()
    assert "no signing key" in target.read_text(encoding="utf-8")  # the manifest says why
    result = cli("verify", target)
    assert result.returncode == 0, result.stderr
    assert "NOT SIGNED" in result.stdout.decode()


def test_a_record_changed_behind_the_app_refuses_the_export(
    window: MainWindow, reviewer: str, dialogs, qtbot, tmp_path: Path
) -> None:
    """A snapshot rewritten with SQLite while the book is open: the export replays the chain,
    sees the difference and refuses, naming ``coauthor verify``."""
    import sqlite3

    approve_g2(window)
    session = window.session
    assert session is not None
    assert session.flush()
    conn = sqlite3.connect(session.path)
    try:
        conn.execute("""UPDATE chapters SET runs = replace(runs, '"a","g', '"h","g')""")
        conn.commit()
    finally:
        conn.close()
    dialogs.expect("critical")
    target = tmp_path / "x.epub"
    assert refused(window, qtbot, ExportFormat.EPUB, target)
    [refusal] = dialogs.of("critical")
    assert "Export refused" in refusal.title
    assert "coauthor verify" in refusal.text
    assert not target.exists()


def test_closing_the_window_during_an_export_waits_for_it(
    window: MainWindow,
    reviewer: str,
    qtbot,
    tmp_path: Path,
    sample_project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No thread outlives the window: the export's job (its EPUB writer made slow, as a big
    book's is) is waited for, then the project closes as always (its lock gone)."""
    import coauthor.publish.epub as epub_module

    real = epub_module.export_epub

    def slow_export_epub(*args, **kwargs):
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(epub_module, "export_epub", slow_export_epub)
    approve_g2(window)
    target = tmp_path / "closing.epub"
    assert window.publish.export(ExportFormat.EPUB, target, ExportOptions())
    job = window.publish.job
    assert job is not None
    window.close()
    assert not job.running
    assert target.is_file()  # the export the author asked for was finished, not lost
    assert window.session is None
    assert not Path(f"{sample_project}.lock").exists()


@pytest.mark.slow
def test_the_export_dialog_writes_a_book_style_docx_and_a_6x9_pdf(
    window: MainWindow,
    reviewer: str,
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
    tmp_path: Path,
    cli,
) -> None:
    """Book ▸ Export: DOCX with its style, PDF with its trim size, each chosen in the dialog,
    written in the background with progress, and each verifies."""
    approve_g2(window)
    seen: list[tuple[bool, bool]] = []

    def choose(fmt: ExportFormat, target: Path, combo: str, value: str):
        def exec_(dialog: ExportDialog) -> int:
            dialog.format.setCurrentIndex(dialog.format.findData(fmt))
            seen.append((dialog.docx_style.isEnabled(), dialog.trim.isEnabled()))
            box = dialog.docx_style if combo == "docx" else dialog.trim
            box.setCurrentIndex(box.findData(value))
            dialog.target.setText(str(target))
            return 1

        return exec_

    docx_target, pdf_target = tmp_path / "book.docx", tmp_path / "book.pdf"
    monkeypatch.setattr(
        ExportDialog, "exec", choose(ExportFormat.DOCX, docx_target, "docx", "book")
    )
    window.publish.export_dialog()
    window.publish.wait()
    qtbot.waitUntil(lambda: window.publish.outcome == "exported", timeout=20_000)
    assert docx_target.exists()
    monkeypatch.setattr(ExportDialog, "exec", choose(ExportFormat.PDF, pdf_target, "trim", "6x9"))
    window.publish.outcome = None
    window.publish.export_dialog()
    assert window.publish.progress is not None
    window.publish.wait()
    qtbot.waitUntil(lambda: window.publish.outcome == "exported", timeout=120_000)
    assert seen == [(True, False), (False, True)]  # each format's own setting only
    assert window.statusBar().currentMessage().startswith(f"Exported to {pdf_target}")
    for target in (docx_target, pdf_target):
        result = cli("verify", target)
        assert result.returncode == 0, result.stderr
    info = subprocess.run(
        ["pdfinfo", str(pdf_target)], capture_output=True, text=True, check=True
    ).stdout
    assert "432 x 648 pts" in info  # 6 x 9 inches
    document = docx.Document(str(docx_target))
    assert document.core_properties.category == "coauthor-export"
    assert document.paragraphs[0].text  # the title page comes first
    assert any(p.style is not None and p.style.name == "Heading 1" for p in document.paragraphs)


def test_go_to_passage_from_the_export_refusal_opens_the_review_queue_on_it(
    window: MainWindow, reviewer: str, monkeypatch: pytest.MonkeyPatch, qtbot, tmp_path: Path
) -> None:
    """The refusal names each passage by its chapter and first words, on as many lines as it
    needs; Go to Passage shows it, selected, with the Review dock open on it, and A approves
    it at once: the passage was shown."""
    refusals = capture(
        monkeypatch, GateDialog, lambda dialog: button_named(dialog, "Go to Passage").click()
    )
    assert refused(window, qtbot, ExportFormat.EPUB, tmp_path / "x.epub")
    [gate] = refusals
    line = gate.list.item(0).text()
    assert line.startswith("The Storm (chapter 3): “The storm finally came to an end. The")
    assert "generation g2" in line
    assert "pending review" in line
    assert "characters" not in line
    assert gate.list.wordWrap()
    assert "characters" in gate.list.item(0).toolTip()  # the place, for who wants it

    project = window.project
    assert project is not None
    storm = project.chapters[2]
    assert window.chapter is storm
    [(start, end)] = generation_ranges(storm, "g2")
    assert window.editor.selection_range() == (start, end)
    dock = window.ai.review_dock
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=2000)
    assert window.ai.queue.current_id() == "g2"
    assert window.ai.queue.tree.hasFocus()
    QTest.keyClick(window.ai.queue.tree, Qt.Key.Key_A)
    assert project.generations["g2"].review_state is ReviewState.APPROVED
    assert window.ai.queue.note.text() == ""


def test_the_export_dialog_remembers_its_folder(
    window: MainWindow,
    reviewer: str,
    app_settings: AppSettings,
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
    tmp_path: Path,
) -> None:
    approve_g2(window)
    folder = tmp_path / "exports"
    folder.mkdir()
    suggested: list[Path] = []

    def exec_(dialog: ExportDialog) -> int:
        suggested.append(Path(dialog.target.text()).parent)
        dialog.format.setCurrentIndex(dialog.format.findData(ExportFormat.MARKDOWN))
        dialog.target.setText(str(folder / "book.md"))
        return 1

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    for _ in range(2):
        window.publish.outcome = None
        window.publish.export_dialog()
        window.publish.wait()
        qtbot.waitUntil(lambda: window.publish.outcome == "exported", timeout=20_000)
    assert (folder / "book.md").exists()
    assert window.session is not None
    assert suggested == [window.session.path.parent, folder]
    assert app_settings.export_dir == str(folder)  # in the settings: the next launch too
