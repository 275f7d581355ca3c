"""The wheel carries everything Coauthor needs: installed outside the checkout, it exports.

The top-level ``resources/`` folder (templates, sample book, icons) is installed as the package
``coauthor.resources`` and read with ``importlib.resources``. The wheel is built offline from a
copy of the sources (no build isolation: setuptools comes from the dev environment), installed
with ``--no-deps`` into a fresh virtual environment, and run from a folder outside the checkout;
the dependencies come from the dev environment's ``site-packages`` on ``PYTHONPATH``, which does
not run the editable install's finder, so ``coauthor`` is the wheel's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from coauthor.core.resources import RESOURCES_PACKAGE, resources_dir

_REPO = Path(__file__).resolve().parents[1]
_PYPROJECT = tomllib.loads((_REPO / "pyproject.toml").read_text(encoding="utf-8"))
_SETUPTOOLS = _PYPROJECT["tool"]["setuptools"]

CHAPTER = "# The Tide Clock\n\nThe harbour clock ran on the tide, and the town on the clock.\n"


def _resource_files() -> list[str]:
    root = _REPO / "resources"
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def test_every_package_is_in_the_wheel_list() -> None:
    """pyproject.toml lists the packages by name: a new one under coauthor/ must be added."""
    found = {
        ".".join(p.parent.relative_to(_REPO).parts)
        for p in (_REPO / "coauthor").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    listed = set(_SETUPTOOLS["packages"])
    assert found | {RESOURCES_PACKAGE} == listed, (
        f"pyproject.toml [tool.setuptools] packages: add {sorted(found - listed)}, "
        f"remove {sorted(listed - found - {RESOURCES_PACKAGE})}"
    )
    assert _SETUPTOOLS["package-dir"] == {RESOURCES_PACKAGE: "resources"}


def test_resources_are_read_through_the_installed_package() -> None:
    """In the checkout (editable install) the package is the top-level folder itself."""
    assert resources_dir() == _REPO / "resources"
    assert (resources_dir() / "templates" / "report.html.j2").is_file()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline from a copy of the sources (the checkout stays untouched)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(_REPO / name, source / name)
    for name in ("coauthor", "resources"):
        shutil.copytree(_REPO / name, source / name, ignore=ignore)
    out = base / "dist"
    built = subprocess.run(
        [
            sys.executable,
            *("-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"),
            *("--quiet", "-w", str(out), str(source)),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (path,) = out.glob("coauthor_desk-*.whl")
    return path


def test_the_wheel_holds_every_resource(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"coauthor/resources/{name}" for name in _resource_files()}
    assert expected <= names, sorted(expected - names)
    assert "coauthor/resources/templates/report.html.j2" in names
    assert "coauthor/resources/sample/sample-book.json" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


@pytest.mark.slow
def test_wheel_installed_outside_the_checkout_exports(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [
            sys.executable,
            *("-m", "pip", "--python", str(python), "install"),
            *("--no-deps", "--no-index", "--quiet", str(wheel)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]

    work = tmp_path / "work"
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "COAUTHOR_"))
    }
    env.update(
        PYTHONPATH=sysconfig.get_paths()["purelib"],  # the dependencies, not coauthor
        PYTHONNOUSERSITE="1",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",  # unsigned exports
        HOME=str(tmp_path / "home"),
    )

    def run(*args: str) -> str:
        result = subprocess.run(
            [str(python), *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{args}: {result.stderr[-3000:]}"
        return result.stdout

    where = run(
        "-c",
        "import coauthor, coauthor.core.resources as s; print(coauthor.__file__); print(s.resources_dir())",
    ).splitlines()
    package, resources = Path(where[0]), Path(where[1])
    assert env_dir in package.parents, f"coauthor was imported from {package}, not the wheel"
    assert env_dir in resources.parents
    assert (resources / "templates" / "book.html.j2").is_file()

    (work / "chapter.md").write_text(CHAPTER, encoding="utf-8")
    book = "book.coauthor"
    run("-m", "coauthor.cli", "new", book, "--title", "The Tide Clock", "--author", "A. Writer")
    run("-m", "coauthor.cli", "import", "chapter.md", "--into", book)
    for fmt, out in (("epub", "book.epub"), ("report", "report.html"), ("html", "book.html")):
        run("-m", "coauthor.cli", "export", book, "--format", fmt, "--out", out)
        assert (work / out).stat().st_size > 0, out

    with zipfile.ZipFile(work / "book.epub") as epub:
        names = epub.namelist()
        css = [n for n in names if n.endswith(".css")]
        assert css, names
        assert epub.read(css[0]) == (_REPO / "resources" / "templates" / "epub.css").read_bytes()
        text = b"".join(epub.read(n) for n in names if n.endswith(".xhtml"))
        assert b"ran on the tide" in text
    report = (work / "report.html").read_text(encoding="utf-8")
    assert "The Tide Clock" in report
    assert "ran on the tide" in (work / "book.html").read_text(encoding="utf-8")

    # The first-run sample book is built from the wheel's resources too.
    run(
        "-c",
        "from pathlib import Path; from coauthor.app.sample import build_sample as b; b(Path('s.coauthor'))",
    )
    run("-m", "coauthor.cli", "verify", "s.coauthor")
