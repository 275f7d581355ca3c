"""Application settings: one ``QSettings`` file, passed to whoever needs it (no singleton).

``COAUTHOR_CONFIG_DIR`` and ``COAUTHOR_DATA_DIR`` move the settings file and the data folder
(the sample book lives there), which the tests use to stay out of the real home folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from coauthor.core.daily import Goals

__all__ = ["DEFAULT_FONT_SIZE", "MAX_FONT_SIZE", "MIN_FONT_SIZE", "AppSettings"]

_RECENT_MAX = 10


DEFAULT_FONT_SIZE = 12
"""The editor's text size in points, out of the box (View ▸ Actual Size)."""
MIN_FONT_SIZE, MAX_FONT_SIZE = 6, 48
DEFAULT_FOCUS_WIDTH = 72
"""Focus mode's column, in average characters of the editor's font (View ▸ Wider Column)."""
MIN_FOCUS_WIDTH, MAX_FOCUS_WIDTH = 30, 160


class AppSettings:
    def __init__(self, config_dir: Path | None = None, data_dir: Path | None = None) -> None:
        config = (
            config_dir
            or _env_dir("COAUTHOR_CONFIG_DIR")
            or Path(
                QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
                or Path.home() / ".config" / "Coauthor"
            )
        )
        data = (
            data_dir
            or _env_dir("COAUTHOR_DATA_DIR")
            or Path(
                QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
                or Path.home() / ".local" / "share" / "Coauthor"
            )
        )
        config.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        self.data_dir = data
        self.qsettings = QSettings(str(config / "coauthor.ini"), QSettings.Format.IniFormat)

    def _get(self, key: str, default: object) -> object:
        value = self.qsettings.value(key, default)
        return default if value is None else value

    @property
    def recent_files(self) -> list[str]:
        value = self._get("recent", [])
        items = [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        return [str(item) for item in items if item]

    def add_recent(self, path: Path) -> None:
        entry = str(Path(path).resolve())
        items = [entry] + [p for p in self.recent_files if p != entry]
        self.qsettings.setValue("recent", items[:_RECENT_MAX])

    def remove_recent(self, path: str) -> None:
        self.qsettings.setValue("recent", [p for p in self.recent_files if p != path])

    @property
    def last_project(self) -> str:
        return str(self._get("last_project", ""))

    @last_project.setter
    def last_project(self, value: str) -> None:
        self.qsettings.setValue("last_project", value)

    @property
    def first_run_done(self) -> bool:
        return str(self._get("first_run_done", "false")).lower() == "true"

    @first_run_done.setter
    def first_run_done(self, value: bool) -> None:
        self.qsettings.setValue("first_run_done", "true" if value else "false")

    @property
    def view_mode(self) -> str:
        return str(self._get("view_mode", "origins"))

    @view_mode.setter
    def view_mode(self, value: str) -> None:
        self.qsettings.setValue("view_mode", value)

    @property
    def reviewer_name(self) -> str:
        return str(self._get("reviewer_name", ""))

    @reviewer_name.setter
    def reviewer_name(self, value: str) -> None:
        self.qsettings.setValue("reviewer_name", value)

    @property
    def export_dir(self) -> str:
        """The folder of the last export (Book ▸ Export… suggests it), or ""."""
        return str(self._get("export_dir", ""))

    @export_dir.setter
    def export_dir(self, value: str) -> None:
        self.qsettings.setValue("export_dir", value)

    @property
    def font_size(self) -> int:
        try:
            size = int(self._get("font_size", DEFAULT_FONT_SIZE))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return DEFAULT_FONT_SIZE
        return max(MIN_FONT_SIZE, min(MAX_FONT_SIZE, size))

    @font_size.setter
    def font_size(self, value: int) -> None:
        self.qsettings.setValue("font_size", int(value))

    @property
    def show_overview(self) -> bool:
        return str(self._get("show_overview", "true")).lower() == "true"

    @show_overview.setter
    def show_overview(self, value: bool) -> None:
        self.qsettings.setValue("show_overview", "true" if value else "false")

    @property
    def focus_width(self) -> int:
        try:
            width = int(self._get("focus_width", DEFAULT_FOCUS_WIDTH))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return DEFAULT_FOCUS_WIDTH
        return max(MIN_FOCUS_WIDTH, min(MAX_FOCUS_WIDTH, width))

    @focus_width.setter
    def focus_width(self, value: int) -> None:
        self.qsettings.setValue("focus_width", int(value))

    @property
    def spell_check(self) -> bool:
        """View ▸ Check Spelling: misspelled words underlined (on out of the box)."""
        return str(self._get("spell_check", "true")).lower() == "true"

    @spell_check.setter
    def spell_check(self, value: bool) -> None:
        self.qsettings.setValue("spell_check", "true" if value else "false")

    @property
    def user_words_path(self) -> Path:
        """The author's own word list for spell checking, for every book (one word a line)."""
        return self.data_dir / "spelling" / "words.txt"

    # Writing goals are the author's own targets, not facts about the book: they stay here,
    # per book (by its path), and never enter the project's tamper-evident record or a copy
    # of the book sent to someone else. Moving the file leaves them behind.
    def goals(self, project: Path) -> Goals:
        group = _goals_group(project)
        try:
            daily = max(0, int(self._get(f"{group}/daily_words", 0)))  # type: ignore[arg-type]
            book = max(0, int(self._get(f"{group}/book_words", 0)))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return Goals()
        try:
            deadline = dt.date.fromisoformat(str(self._get(f"{group}/deadline", "")))
        except ValueError:
            deadline = None
        return Goals(daily, book, deadline)

    def set_goals(self, project: Path, goals: Goals) -> None:
        group = _goals_group(project)
        self.qsettings.setValue(f"{group}/book", str(Path(project).resolve()))
        self.qsettings.setValue(f"{group}/daily_words", goals.daily_words)
        self.qsettings.setValue(f"{group}/book_words", goals.book_words)
        self.qsettings.setValue(
            f"{group}/deadline", goals.deadline.isoformat() if goals.deadline else ""
        )

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def sync(self) -> None:
        self.qsettings.sync()


def _goals_group(project: Path) -> str:
    key = hashlib.sha256(str(Path(project).resolve()).encode("utf-8", "surrogatepass"))
    return f"goals/{key.hexdigest()[:16]}"


def _env_dir(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None
