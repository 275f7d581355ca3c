"""Where Coauthor's resources are: templates, the sample book, icons.

Installed (wheel or editable), the top-level ``resources/`` folder is the package
``coauthor.resources`` (pyproject.toml), found with ``importlib.resources``; a source tree used
without installing it (``PYTHONPATH``) reads the folder beside the package.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["RESOURCES_PACKAGE", "resources_dir"]


RESOURCES_PACKAGE = "coauthor.resources"
"""The top-level ``resources/`` folder, installed under this name (pyproject.toml)."""


def resources_dir() -> Path:
    """The templates, sample book and icons, found with ``importlib.resources``."""
    try:
        root = importlib.resources.files(RESOURCES_PACKAGE)
    except ModuleNotFoundError:
        root = Path(__file__).resolve().parent.parent.parent / "resources"
        if not (root / "__init__.py").is_file():
            raise FileNotFoundError(
                "the resources folder is missing from this installation"
            ) from None
    if not isinstance(root, Path):
        # Zipped installs (zipimport) give no folder to read templates from.
        raise FileNotFoundError(
            f"Coauthor's resources are inside an archive ({root}); install it unpacked"
        )
    return root
