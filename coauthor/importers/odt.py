"""Import OpenDocument text (.odt, LibreOffice's own format) through pandoc, which reads it
into HTML; the DOCX importer's converter writes that as Markdown chapters.

pandoc is a separate program; without it the import is refused in one sentence that says how
to get it. The file is a zip archive and is checked as a .docx is before pandoc reads it.
pandoc's ODT reader keeps headings, emphasis, lists and line breaks; it does not recognise
LibreOffice's "Quotations" style or horizontal lines, which arrive as plain paragraphs (a
paragraph reading ``* * *`` is still a scene break).
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from coauthor.core.exportformat import TooManyChapters
from coauthor.importers.docx import check_zip, file_sha256, split_html
from coauthor.importers.errors import ImportFailed
from coauthor.importers.textfiles import MAX_CHAPTERS, ParsedText

__all__ = ["ODT_MIMETYPE", "PANDOC_TIMEOUT", "parse_odt"]

ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"

PANDOC_TIMEOUT = 300
"""Seconds pandoc may take (a 340,000-word book takes a few)."""

NEEDS_PANDOC = (
    "Importing an OpenDocument (.odt) file needs pandoc, which is not installed: install it "
    "from https://pandoc.org/installing.html or your system's packages (apt install pandoc), "
    "or open the file in LibreOffice and save it as Word (.docx), which Coauthor reads itself"
)


def parse_odt(path: Path) -> ParsedText:
    """Read and split one OpenDocument text (nothing is written); ``ImportFailed`` if it
    cannot be."""
    check_zip(path, ".odt")
    _check_mimetype(path)
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        raise ImportFailed(NEEDS_PANDOC)
    try:
        done = subprocess.run(
            [pandoc, "--from=odt", "--to=html", "--wrap=none", "--", str(path.resolve())],
            capture_output=True,
            timeout=PANDOC_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ImportFailed(
            f"{path} took pandoc more than {PANDOC_TIMEOUT} seconds to read; it was stopped"
        ) from None
    except OSError as exc:
        raise ImportFailed(f"pandoc could not be started: {exc.strerror or exc}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = f": {said[-1]}" if said else ""
        raise ImportFailed(f"{path} could not be read as an OpenDocument text (pandoc{reason})")
    html = done.stdout.decode("utf-8", "replace")
    try:
        chapters, details = split_html(html, path.stem, limit=MAX_CHAPTERS)
    except TooManyChapters as exc:
        raise ImportFailed(
            f"{path} would make more than {exc.limit:,} chapters (one per top-level heading), "
            "more than one import may make; split it into several files or use fewer headings"
        ) from None
    except RecursionError:
        raise ImportFailed(f"{path} is nested too deeply to be a document") from None
    details["converted_with"] = "pandoc"
    return ParsedText(path, "odt", "utf-8", file_sha256(path), chapters, details)


def _check_mimetype(path: Path) -> None:
    """An OpenDocument file names its kind in its first entry; a spreadsheet is refused."""
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo("mimetype")
        except KeyError:
            return  # optional in the standard; pandoc decides
        if info.file_size > 200:
            raise ImportFailed(f"{path} is not an OpenDocument text: its mimetype is not one")
        mimetype = archive.read(info).decode("ascii", "replace").strip()
    if mimetype != ODT_MIMETYPE:
        raise ImportFailed(
            f"{path} is not an OpenDocument text but {mimetype!r}; only text documents import"
        )
