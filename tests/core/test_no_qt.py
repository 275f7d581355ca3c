"""The headless parts of Coauthor (core, store, importers, command line) must not import Qt.

Each check runs in a fresh interpreter, since this test process may already have Qt loaded.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

HEADLESS = ["coauthor.core", "coauthor.store", "coauthor.importers", "coauthor.cli"]

# Imports a package and every module under it, then reports what was imported and any Qt module.
_PROBE = """
import importlib, json, pkgutil, sys

name = sys.argv[1]
module = importlib.import_module(name)
imported = [name]
for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=name + "."):
    importlib.import_module(info.name)
    imported.append(info.name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
print(json.dumps({"imported": imported, "qt": qt}))
"""


def _exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _probe(name: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, name],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"importing {name} failed:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", HEADLESS)
def test_headless_package_does_not_import_qt(name: str) -> None:
    if not _exists(name):
        pytest.skip(f"{name} does not exist yet")
    report = _probe(name)
    assert "PySide6" not in report["qt"], f"{name} imports Qt: {report['qt']}"
    assert report["qt"] == [], f"{name} imports Qt: {report['qt']}"


def test_public_core_api_imports_without_qt() -> None:
    code = (
        "import sys\n"
        "from coauthor.core import Fragment, Origin, ProvenanceText\n"
        "assert 'PySide6' not in sys.modules, sorted(sys.modules)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
