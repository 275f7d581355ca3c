"""Desktop integration for one user: the menu entry, the icon and the ``.coauthor`` file type.

``coauthor install-desktop`` writes, under ``$XDG_DATA_HOME`` (``~/.local/share`` by default):

- ``applications/org.coauthor.Coauthor.desktop``, whose ``Exec=`` runs this very ``coauthor``
  command (its absolute path) with the double-clicked file (``%f``);
- the icon in ``icons/hicolor/scalable/apps/`` and as PNGs in ``icons/hicolor/NxN/apps/``;
- the MIME type ``application/x-coauthor-project`` in ``mime/packages/``: a ``.coauthor`` file
  is recognised by its name and by its content (SQLite's header and the application id "CoAu"
  at offset 68, ``coauthor.store.schema.APPLICATION_ID``).

It then runs ``update-mime-database``, ``update-desktop-database`` and ``xdg-mime default``
when they are installed, and says which were not (the files work without the caches on most
desktops; a missing tool is never a failure). ``coauthor uninstall-desktop`` removes exactly
those files, the association ``xdg-mime`` recorded, and the caches the tools derived when
nothing else of the user's is left in them.

The files come from ``resources/desktop/`` and ``resources/icons/`` (in the wheel), which
are the copies of ``packaging/`` a test keeps equal. No Qt here: the command runs headless.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coauthor.core.resources import resources_dir

__all__ = [
    "APP_ID",
    "MIME_TYPE",
    "PNG_SIZES",
    "DesktopReport",
    "coauthor_command",
    "data_home",
    "desktop_files",
    "exec_line",
    "install",
    "uninstall",
]

APP_ID = "org.coauthor.Coauthor"
MIME_TYPE = "application/x-coauthor-project"
PNG_SIZES = (48, 128, 256)
DESKTOP_ID = f"{APP_ID}.desktop"
_TOOL_TIMEOUT_S = 60

Runner = Callable[[Sequence[str], Mapping[str, str]], subprocess.CompletedProcess[str]]


@dataclass
class DesktopReport:
    """What a run did: files written or removed, tools run, and tools skipped (with why)."""

    files: list[Path] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def lines(self, verb: str) -> list[str]:
        out = [f"{verb} {path}" for path in self.files]
        out += [f"Ran {tool}" for tool in self.ran]
        out += [f"Skipped {note}" for note in self.skipped]
        return out


def data_home(environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or not absolute (the spec
    says a relative value is to be ignored)."""
    value = environ.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "share"


def config_home(environ: Mapping[str, str] = os.environ) -> Path:
    value = environ.get("XDG_CONFIG_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".config"


def coauthor_command(argv0: str | None = None) -> list[str]:
    """The running ``coauthor`` command as an absolute path (``.venv/bin/coauthor``), or this
    interpreter running the module when there is no such script (``python -m coauthor.cli``)."""
    candidates = [Path(argv0 if argv0 is not None else sys.argv[0])]
    candidates.append(Path(sys.executable).parent / "coauthor")
    found = shutil.which("coauthor")
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.name == "coauthor" and path.is_file() and os.access(path, os.X_OK):
            return [str(path.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "coauthor.cli"]


def _quote_exec_argument(arg: str) -> str:
    """One argument of an ``Exec=`` key (Desktop Entry spec, "The Exec key"): quoted when it
    holds a reserved character, ``%`` doubled; then escaped as a string value (``\\`` → ``\\\\``)."""
    arg = arg.replace("%", "%%")
    if re.search(r"[\s\"'\\><~|&;$*?#()`]", arg):
        arg = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
    return arg.replace("\\", "\\\\")


def exec_line(command: Sequence[str]) -> str:
    return " ".join(_quote_exec_argument(a) for a in command) + " %f"


def desktop_files() -> dict[str, Path]:
    """The files installed, by name, from the installed package's resources."""
    root = resources_dir()
    return {
        "desktop": root / "desktop" / DESKTOP_ID,
        "mime": root / "desktop" / f"{APP_ID}.mime.xml",
        "svg": root / "icons" / f"{APP_ID}.svg",
        **{f"png{size}": root / "icons" / f"{APP_ID}-{size}.png" for size in PNG_SIZES},
    }


def _targets(base: Path) -> dict[str, Path]:
    icons = base / "icons" / "hicolor"
    return {
        "desktop": base / "applications" / DESKTOP_ID,
        "mime": base / "mime" / "packages" / f"{APP_ID}.xml",
        "svg": icons / "scalable" / "apps" / f"{APP_ID}.svg",
        **{f"png{s}": icons / f"{s}x{s}" / "apps" / f"{APP_ID}.png" for s in PNG_SIZES},
    }


def desktop_entry(command: Sequence[str]) -> str:
    """The packaged desktop entry with ``Exec=`` running ``command`` on the file."""
    text = desktop_files()["desktop"].read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^Exec=.*$", lambda _m: "Exec=" + exec_line(command), text)
    if count != 1:
        raise ValueError(f"{DESKTOP_ID} must have one Exec= line, it has {count}")
    return text


def _run(command: Sequence[str], environ: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command),
        env=dict(environ),
        capture_output=True,
        text=True,
        timeout=_TOOL_TIMEOUT_S,
        check=False,
    )


def _tool(
    report: DesktopReport, argv: list[str], why: str, runner: Runner, environ: Mapping[str, str]
) -> None:
    """Run a desktop tool if installed; its absence or failure is reported, never raised."""
    if shutil.which(argv[0], path=environ.get("PATH")) is None:
        report.skipped.append(f"{argv[0]} (not installed): {why}")
        return
    try:
        result = runner(argv, environ)
    except (OSError, subprocess.SubprocessError) as exc:
        report.skipped.append(f"{argv[0]} (it failed: {exc}): {why}")
        return
    if result.returncode != 0:
        detail = " ".join((result.stderr or result.stdout or "").split())[:200]
        report.skipped.append(f"{argv[0]} (exit code {result.returncode}: {detail}): {why}")
        return
    report.ran.append(" ".join(argv))


def install(
    environ: Mapping[str, str] = os.environ,
    command: Sequence[str] | None = None,
    runner: Runner = _run,
) -> DesktopReport:
    """Install the desktop entry, icons and MIME type for this user (see the module text)."""
    base = data_home(environ)
    report = DesktopReport()
    sources = desktop_files()
    missing = [str(p) for p in sources.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"this installation lacks {', '.join(missing)}")
    entry = desktop_entry(command or coauthor_command())
    for name, target in _targets(base).items():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        if name == "desktop":
            partial.write_text(entry, encoding="utf-8")
        else:
            shutil.copyfile(sources[name], partial)
        partial.chmod(0o644)
        partial.replace(target)
        report.files.append(target)
    _refresh(report, base, environ, runner)
    _tool(
        report,
        ["xdg-mime", "default", DESKTOP_ID, MIME_TYPE],
        "Coauthor was not made the default application for .coauthor files",
        runner,
        environ,
    )
    return report


def _refresh(report: DesktopReport, base: Path, environ: Mapping[str, str], runner: Runner) -> None:
    mime, applications = base / "mime", base / "applications"
    if mime.is_dir():
        _tool(
            report,
            ["update-mime-database", str(mime)],
            "desktops that read only the MIME cache may not recognise .coauthor files",
            runner,
            environ,
        )
    if applications.is_dir():
        _tool(
            report,
            ["update-desktop-database", str(applications)],
            "some file managers may not offer Coauthor for .coauthor files until they rescan",
            runner,
            environ,
        )


# Files update-mime-database derives from mime/packages/ (shared-mime-info spec).
_MIME_CACHES = (
    "aliases",
    "generic-icons",
    "globs",
    "globs2",
    "icons",
    "magic",
    "mime.cache",
    "subclasses",
    "treemagic",
    "types",
    "version",
    "XMLnamespaces",
)


def uninstall(environ: Mapping[str, str] = os.environ, runner: Runner = _run) -> DesktopReport:
    """Remove what ``install`` wrote, refresh the caches, and drop the default-application
    line ``xdg-mime`` added. Folders left empty are removed."""
    base = data_home(environ)
    report = DesktopReport()
    for target in _targets(base).values():
        if target.is_file() or target.is_symlink():
            target.unlink()
            report.files.append(target)
        _prune_empty(target.parent, base)
    if _default_removed(config_home(environ) / "mimeapps.list"):
        report.files.append(config_home(environ) / "mimeapps.list")
    _drop_orphan_caches(base)
    _refresh(report, base, environ, runner)
    return report


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _drop_orphan_caches(base: Path) -> None:
    """With no MIME package or desktop file of anyone's left, the caches the tools derived
    from them describe nothing: remove them (and their folders, when empty)."""
    mime = base / "mime"
    if mime.is_dir() and not any((mime / "packages").glob("*.xml")):
        for name in _MIME_CACHES:
            (mime / name).unlink(missing_ok=True)
        for child in mime.iterdir():
            # Media-type folders (application/, text/...) hold one derived XML per type.
            if child.is_dir() and child.name != "packages":
                shutil.rmtree(child)
        _prune_empty(mime / "packages", base)
        _prune_empty(mime, base)
    applications = base / "applications"
    if applications.is_dir() and not any(applications.rglob("*.desktop")):
        (applications / "mimeinfo.cache").unlink(missing_ok=True)
        _prune_empty(applications, base)


def _default_removed(mimeapps: Path) -> bool:
    """Take Coauthor out of ``mimeapps.list``'s default for the type (``xdg-mime default``
    wrote it there); a file left holding only an empty section is removed."""
    try:
        lines = mimeapps.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return False
    section, changed, kept = "", False, []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        elif section == "[Default Applications]" and stripped.startswith(MIME_TYPE + "="):
            apps = [a for a in stripped.split("=", 1)[1].split(";") if a]
            if DESKTOP_ID in apps:
                changed = True
                apps = [a for a in apps if a != DESKTOP_ID]
                if not apps:
                    continue
                line = f"{MIME_TYPE}={';'.join(apps)};"
        kept.append(line)
    if not changed:
        return False
    if all(not k.strip() or k.strip() == "[Default Applications]" for k in kept):
        mimeapps.unlink()
    else:
        mimeapps.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return True
