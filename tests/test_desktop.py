"""Desktop integration: ``coauthor install-desktop`` / ``uninstall-desktop`` against a temporary
``XDG_DATA_HOME``, the files they install validated with the desktop's own tools, the MIME type
recognising a project by its name and by its content, and ``coauthor BOOK`` (what a double-click
runs) opening that book.

The tools come from Debian (``scripts/system-deps.sh``): ``desktop-file-utils``
(``desktop-file-validate``, ``update-desktop-database``), ``appstream`` (``appstreamcli``),
``shared-mime-info`` (``update-mime-database``), ``libglib2.0-bin`` (``gio``) and ``xdg-utils``
(``xdg-mime``); a test whose tool is missing is skipped and says which.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from coauthor import cli
from coauthor.app import desktop
from coauthor.core.resources import resources_dir
from coauthor.store.schema import APPLICATION_ID

_REPO = Path(__file__).resolve().parents[1]
PACKAGING = _REPO / "packaging"
APP_ID = desktop.APP_ID
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"

# The Xvfb helpers of the startup test (one copy of them).
_spec = importlib.util.spec_from_file_location(
    "_startup_helpers", _REPO / "tests" / "ui" / "test_startup.py"
)
assert _spec is not None
assert _spec.loader is not None
_startup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_startup)
xvfb = _startup.xvfb  # the fixture


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (scripts/system-deps.sh installs it)")


def _environ(tmp_path: Path, path: str | None = None) -> dict[str, str]:
    """A user session under ``tmp_path``, on no particular desktop (xdg-utils' generic mode)."""
    home = tmp_path / "home"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "KDE_", "GNOME_", "DESKTOP_SESSION", "COAUTHOR_"))
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_DIRS="/usr/local/share:/usr/share",
    )
    if path is not None:
        env["PATH"] = path
    return env


def _tree(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _project(path: Path, title: str = "Double Click") -> Path:
    assert cli.main(["new", str(path), "--title", title, "--author", "A"]) == 0
    return path


# -- the packaged files ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [f"{APP_ID}.desktop", f"{APP_ID}.mime.xml"])
def test_the_wheel_carries_the_packaging_files_unchanged(name: str) -> None:
    """``resources/desktop/`` is what an installed Coauthor installs; ``packaging/`` is what
    distributors take: they must be the same files."""
    assert (resources_dir() / "desktop" / name).read_bytes() == (PACKAGING / name).read_bytes()


def test_the_icons_are_there_at_every_size() -> None:
    files = desktop.desktop_files()
    for name, path in files.items():
        assert path.is_file(), name
    svg = ET.parse(files["svg"]).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    for size in desktop.PNG_SIZES:
        data = files[f"png{size}"].read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (size, size)


def test_the_desktop_file_validates() -> None:
    _need("desktop-file-validate")
    result = subprocess.run(
        ["desktop-file-validate", str(PACKAGING / f"{APP_ID}.desktop")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stdout.strip(), result.stdout


def test_the_metainfo_validates() -> None:
    _need("appstreamcli")
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(PACKAGING / f"{APP_ID}.metainfo.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_mime_type_matches_a_project_by_glob_and_magic(tmp_path: Path) -> None:
    """Read the XML as shared-mime-info does and apply it to a real project's first bytes."""
    root = ET.parse(PACKAGING / f"{APP_ID}.mime.xml").getroot()
    (mime_type,) = root.findall(f"{MIME_NS}mime-type")
    assert mime_type.get("type") == desktop.MIME_TYPE
    assert [g.get("pattern") for g in mime_type.findall(f"{MIME_NS}glob")] == ["*.coauthor"]
    (outer,) = mime_type.findall(f"{MIME_NS}magic/{MIME_NS}match")
    (inner,) = outer.findall(f"{MIME_NS}match")
    header = _project(tmp_path / "b.coauthor").read_bytes()[:100]
    assert outer.get("type") == "string"
    value = (outer.get("value") or "").encode()
    offset = int(outer.get("offset") or "")
    assert header[offset : offset + len(value)] == value
    assert inner.get("type") == "big32"
    offset = int(inner.get("offset") or "")
    assert int(inner.get("value") or "", 16) == APPLICATION_ID
    assert int.from_bytes(header[offset : offset + 4], "big") == APPLICATION_ID


# -- install and uninstall -----------------------------------------------------------------------


def test_exec_points_at_the_command_and_quotes_what_it_must() -> None:
    assert desktop.exec_line(["/home/a/.venv/bin/coauthor"]) == "/home/a/.venv/bin/coauthor %f"
    assert desktop.exec_line(["/opt/my apps/coauthor"]) == '"/opt/my apps/coauthor" %f'
    assert desktop.exec_line(["/opt/100%/co$t/coauthor"]) == r'"/opt/100%%/co\\$t/coauthor" %f'
    command = desktop.coauthor_command()
    assert Path(command[0]).is_absolute()
    script = Path(sys.executable).parent / "coauthor"
    if script.is_file():
        assert command == [str(script)]


def test_install_writes_the_files_and_uninstall_removes_exactly_them(tmp_path: Path) -> None:
    env = _environ(tmp_path)
    home = Path(env["HOME"])
    command = ["/opt/Coauthor Test/bin/coauthor"]
    before = _tree(home)

    report = desktop.install(env, command)
    data = Path(env["XDG_DATA_HOME"])
    entry = data / "applications" / f"{APP_ID}.desktop"
    expected = {
        entry,
        data / "mime" / "packages" / f"{APP_ID}.xml",
        data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
        *(
            data / "icons" / "hicolor" / f"{s}x{s}" / "apps" / f"{APP_ID}.png"
            for s in (48, 128, 256)
        ),
    }
    assert set(report.files) == expected
    assert all(p.is_file() for p in expected)
    text = entry.read_text(encoding="utf-8")
    assert '\nExec="/opt/Coauthor Test/bin/coauthor" %f\n' in text
    assert text.count("Exec=") == 1
    assert f"\nIcon={APP_ID}\n" in text
    assert f"MimeType={desktop.MIME_TYPE};" in text
    assert (data / "mime" / "packages" / f"{APP_ID}.xml").read_bytes() == (
        PACKAGING / f"{APP_ID}.mime.xml"
    ).read_bytes()
    assert not list(data.rglob("*.part"))
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(
            ["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout

    # Installing twice is the same as once.
    files = set(_tree(home))
    desktop.install(env, command)
    assert set(_tree(home)) == files
    assert entry.read_text(encoding="utf-8") == text

    desktop.uninstall(env)
    assert _tree(home) == before, sorted(_tree(home))
    assert not list((home / "data").rglob("*"))


def test_uninstall_keeps_everything_else_of_the_user(tmp_path: Path) -> None:
    env = _environ(tmp_path)
    data, config = Path(env["XDG_DATA_HOME"]), Path(env["XDG_CONFIG_HOME"])
    other_entry = data / "applications" / "org.example.Other.desktop"
    other_entry.parent.mkdir(parents=True)
    other_entry.write_text(
        "[Desktop Entry]\nType=Application\nName=Other\nExec=other %f\nMimeType=text/x-other;\n",
        encoding="utf-8",
    )
    other_mime = data / "mime" / "packages" / "org.example.Other.xml"
    other_mime.parent.mkdir(parents=True)
    other_mime.write_text(
        '<?xml version="1.0"?>\n<mime-info xmlns="http://www.freedesktop.org/standards/'
        'shared-mime-info">\n  <mime-type type="text/x-other"><comment>Other</comment>'
        '<glob pattern="*.other"/></mime-type>\n</mime-info>\n',
        encoding="utf-8",
    )
    other_icon = data / "icons" / "hicolor" / "48x48" / "apps" / "org.example.Other.png"
    other_icon.parent.mkdir(parents=True)
    other_icon.write_bytes(b"png")
    config.mkdir(parents=True)
    mimeapps = config / "mimeapps.list"
    mimeapps.write_text(
        "[Default Applications]\ntext/x-other=org.example.Other.desktop;\n", encoding="utf-8"
    )

    desktop.install(env, ["/usr/bin/coauthor"])
    desktop.uninstall(env)

    assert other_entry.is_file()
    assert other_mime.is_file()
    assert other_icon.read_bytes() == b"png"
    assert not list(data.rglob(f"{APP_ID}*"))
    for cache in (data / "mime" / "globs2", data / "applications" / "mimeinfo.cache"):
        if cache.exists():
            assert "coauthor" not in cache.read_text(encoding="utf-8")
    assert [line for line in mimeapps.read_text(encoding="utf-8").splitlines() if line] == [
        "[Default Applications]",
        "text/x-other=org.example.Other.desktop;",
    ]


def test_missing_tools_are_skipped_and_named_never_a_failure(tmp_path: Path) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    env = _environ(tmp_path, path=str(empty))
    report = desktop.install(env, ["/usr/bin/coauthor"])
    assert len(report.files) == 6
    assert report.ran == []
    skipped = " ".join(report.skipped)
    for tool in ("update-mime-database", "update-desktop-database", "xdg-mime"):
        assert f"{tool} (not installed)" in skipped
    lines = report.lines("Installed")
    assert any(line.startswith("Skipped xdg-mime") for line in lines)
    desktop.uninstall(env)
    assert not list(Path(env["XDG_DATA_HOME"]).rglob("*.*"))


def test_data_home_defaults_to_local_share(tmp_path: Path) -> None:
    assert desktop.data_home({"HOME": str(tmp_path)}) == tmp_path / ".local" / "share"
    relative = {"HOME": str(tmp_path), "XDG_DATA_HOME": "relative/path"}
    assert desktop.data_home(relative) == tmp_path / ".local" / "share"
    assert desktop.data_home({"XDG_DATA_HOME": str(tmp_path / "d")}) == tmp_path / "d"


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_commands_install_and_uninstall_for_the_user(tmp_path: Path) -> None:
    """The real commands, with the desktop's tools: gio then knows a project by its name and
    by its content (renamed, no extension), and xdg-mime names Coauthor as its application."""
    env = _environ(tmp_path)
    command = _startup._coauthor_command()
    installed = _run([*command, "install-desktop"], env, tmp_path)
    assert installed.returncode == 0, installed.stderr
    data = Path(env["XDG_DATA_HOME"])
    entry = (data / "applications" / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    exec_value = re.search(r"(?m)^Exec=(.*)$", entry)
    assert exec_value is not None
    assert exec_value[1] == desktop.exec_line(command)
    assert f"Installed {data / 'applications' / f'{APP_ID}.desktop'}" in installed.stderr
    for tool in ("update-mime-database", "update-desktop-database", "xdg-mime"):
        said = f"Ran {tool}" if shutil.which(tool) else f"Skipped {tool} (not installed)"
        assert said in installed.stderr

    book = _project(tmp_path / "book.coauthor")
    renamed = tmp_path / "renamed-without-extension"
    shutil.copyfile(book, renamed)
    plain = tmp_path / "plain-sqlite"
    with sqlite3.connect(plain) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()

    if shutil.which("gio") and shutil.which("update-mime-database"):

        def content_type(path: Path) -> str:
            out = _run(["gio", "info", "-a", "standard::content-type", str(path)], env, tmp_path)
            assert out.returncode == 0, out.stderr
            return out.stdout.rsplit(":", 1)[1].strip()

        assert content_type(book) == desktop.MIME_TYPE  # by its glob
        assert content_type(renamed) == desktop.MIME_TYPE  # by its magic
        assert content_type(plain) != desktop.MIME_TYPE
    if shutil.which("xdg-mime"):
        default = _run(["xdg-mime", "query", "default", desktop.MIME_TYPE], env, tmp_path)
        assert default.stdout.strip() == f"{APP_ID}.desktop"

    removed = _run([*command, "uninstall-desktop"], env, tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert not data.exists() or not list(data.rglob("*"))
    assert not (Path(env["XDG_CONFIG_HOME"]) / "mimeapps.list").exists()
    again = _run([*command, "uninstall-desktop"], env, tmp_path)
    assert again.returncode == 0
    assert "Nothing to remove" in again.stderr


# -- coauthor BOOK: what a double-click runs ------------------------------------------------------


@pytest.mark.parametrize("extension", [".coauthor", ""])
def test_a_book_argument_starts_the_editor_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extension: str
) -> None:
    book = _project(tmp_path / "book.coauthor")
    if not extension:
        book = book.rename(tmp_path / "book")
    started: list[list[str]] = []
    monkeypatch.setattr(cli, "_start_gui", lambda argv: started.append(list(argv)) or 0)
    assert cli.main([str(book)]) == 0
    assert started == [[str(book)]]


def test_a_command_name_is_still_a_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stats").write_text("a file named like a command", encoding="utf-8")
    monkeypatch.setattr(cli, "_start_gui", lambda _argv: pytest.fail("the editor started"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["stats"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_a_double_click_opens_the_book(xvfb: str, tmp_path: Path) -> None:
    """Install, then run the installed entry's ``Exec=`` on a book as a launcher does: the
    app opens that book (its title in the window's), and closes it on SIGTERM."""
    env = _environ(tmp_path)
    assert desktop.install(env, _startup._coauthor_command()).files
    book = _project(tmp_path / "my book.coauthor", title="Double Click")
    entry = Path(env["XDG_DATA_HOME"]) / "applications" / f"{APP_ID}.desktop"
    exec_value = re.search(r"(?m)^Exec=(.*)$", entry.read_text(encoding="utf-8"))
    assert exec_value is not None
    argv = _split_exec(exec_value[1].replace("\\\\", "\\"))  # the string's escapes first
    argv = [str(book) if a == "%f" else a for a in argv]

    run_env = {**_startup._clean_env(tmp_path), "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb"}
    lock = book.with_name(book.name + ".lock")
    log = tmp_path / "app.log"
    with log.open("wb") as out:
        app = subprocess.Popen(argv, env=run_env, cwd=tmp_path, stdout=out, stderr=out)
    try:
        title = re.compile(r"Double Click .* Coauthor")
        deadline = time.monotonic() + _startup.WAIT_S
        window = None
        while window is None and app.poll() is None and time.monotonic() < deadline:
            window = _startup._mapped_window(xvfb, title)
            if window is None:
                time.sleep(0.25)
        output = log.read_text(errors="replace")[-3000:]
        assert window is not None, f"no window for the book (exit code {app.poll()}):\n{output}"
        assert lock.exists(), "the book is not open"
        # The window names its desktop file (so the desktop shows the entry's name and icon)
        # and carries the icon itself.
        props = subprocess.run(
            ["xprop", "-id", window, "_GTK_APPLICATION_ID", "_KDE_NET_WM_DESKTOP_FILE"],
            env={**os.environ, "DISPLAY": xvfb},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
        assert props.count(f'"{APP_ID}"') == 2, props
        icon = subprocess.run(
            ["xprop", "-id", window, "-notype", "_NET_WM_ICON"],
            env={**os.environ, "DISPLAY": xvfb},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
        assert "Icon (128 x 128)" in icon, icon[:300]
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=_startup.WAIT_S) == 0, log.read_text(errors="replace")[-3000:]
        assert not lock.exists()
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


def _split_exec(value: str) -> list[str]:
    """The arguments of an ``Exec=`` value (quoted arguments, backslash escapes inside)."""
    return [
        re.sub(r"\\(.)", r"\1", m[1]) if m[1] is not None else m[2]
        for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', value)
    ]
