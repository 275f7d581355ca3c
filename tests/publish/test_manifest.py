"""Provenance manifests in every export, and ``verify_export`` reading them back.

Every format (EPUB, Markdown, HTML book, report) of the sample book, Pride and Prejudice and a
hostile book (markup, entities, emoji, right-to-left text, control characters, stray
whitespace) verifies; one letter of a chapter, one figure of the foreword or one byte of the
manifest changed makes it fail with a one-line reason; a manifest signed by another key is
reported as such.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from coauthor.app.sample import build_sample
from coauthor.core.book import BookMeta
from coauthor.core.generation import Generation, Outcome, ReviewState
from coauthor.core.origin import Origin
from coauthor.core.project import Project
from coauthor.importers import parse_source
from coauthor.publish.document import BookDocument, prepare_export
from coauthor.publish.epub import export_epub
from coauthor.publish.html_export import export_html
from coauthor.publish.manifest import EPUB_ENTRY, canonical, signed_bytes
from coauthor.publish.markdown_export import export_markdown
from coauthor.publish.report import export_report
from coauthor.publish.signing import AuthorKey
from coauthor.publish.verify_export import VerifyFailed, check_against_chain, verify_export
from coauthor.store import ProjectFile

ADA = AuthorKey.generate("Ada Marlowe")
EVE = AuthorKey.generate("Eve")

FORMATS = ("epub", "markdown", "html", "report")
SUFFIX = {"epub": ".epub", "markdown": ".md", "html": ".html", "report": ".html"}

HOSTILE_TITLE = '<script>alert("t")</script> & &amp; 👩‍👩‍👧 שלום'
HOSTILE_TEXT = (
    "  Leading spaces, <b>bold</b> & &amp; &lt; ]]> 👩‍👩‍👧🏳️‍🌈 עברית مرحبا \u202eevil\u202c\n"
    "# not a heading\n```\n\n\n\n"
    "bell\x07 del\x7f c1\x85 nonchar\ufffe lone\ud800 cr\r\nend\rof line  \n"
    "\\# escaped already\n\n   \n\n"
    "Last paragraph with trailing spaces   \n\n"
)


def write(document: BookDocument, fmt: str, folder: Path, **options: bool) -> Path:
    target = folder / f"book{SUFFIX[fmt]}"
    if fmt == "epub":
        return export_epub(document, target, **options)
    if fmt == "markdown":
        return export_markdown(document, target, **options)
    if fmt == "html":
        return export_html(document, target, **options)
    return export_report(document, target)


def hostile_document(signer: AuthorKey | None = ADA) -> BookDocument:
    project = Project(BookMeta(title="A <b>hostile</b> & book ✨", author="Ada Marlowe"))
    chapter = project.add_chapter(HOSTILE_TITLE)
    project.insert(chapter, 0, HOSTILE_TEXT, Origin.HUMAN)
    output = " Model <i>text</i> & 🤖 نص\n\nSecond model paragraph."
    generation = project.add_generation(
        Generation(
            project.new_generation_id(),
            "embedded",
            "tiny-model",
            {"temperature": 0.7},
            [{"role": "user", "content": "<continue> & go"}],
            output,
            Outcome.COMPLETE,
            1,
            2,
            chapter.id,
        )
    )
    project.insert(chapter, 40, output, Origin.AI, generation.id)
    project.review(generation.id, ReviewState.APPROVED, "Ada", shown_ms=1000)
    empty = project.add_chapter("   ")
    project.insert(empty, 0, "\n\nOnly one line.\n", Origin.PASTED)
    return replace(prepare_export(project), signer=signer)


@pytest.fixture(scope="module")
def signed_sample(sample_document: BookDocument) -> BookDocument:
    return replace(sample_document, signer=ADA)


# -- every format verifies ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_sample_verifies_signed(signed_sample: BookDocument, fmt: str, tmp_path: Path) -> None:
    check = verify_export(write(signed_sample, fmt, tmp_path), expect_key=ADA.fingerprint)
    assert check.signed
    assert check.signer_name == "Ada Marlowe"
    assert check.fingerprint == ADA.fingerprint
    manifest = check.manifest
    assert manifest["format"] == fmt
    assert manifest["book"]["title"] == "The Tide Clock"
    assert manifest["book"]["authors"] == ["Ada Marlowe"]
    assert manifest["chain"]["head_seq"] == signed_sample.head[0] > 0
    assert manifest["chain"]["head_hash"] == signed_sample.head[1]
    assert manifest["figures"]["ai_percent"] == signed_sample.roles.percents[Origin.AI]
    assert [c["title"] for c in manifest["chapters"]] == [c.title for c in signed_sample.chapters]
    assert {g["id"] for g in manifest["generations"]} == {"g1", "g2"}
    for generation in manifest["generations"]:
        assert generation["review_state"] == "approved"
        assert re.fullmatch(r"[0-9a-f]{64}", generation["prompt_sha256"])
        assert re.fullmatch(r"[0-9a-f]{64}", generation["output_sha256"])
    assert "not a certificate of human authorship" in manifest["statement"]
    assert any("rendered again from the figures" in c for c in check.checked)


@pytest.mark.parametrize("fmt", FORMATS)
def test_pride_and_prejudice_verifies(
    pride_document: BookDocument, fmt: str, tmp_path: Path
) -> None:
    check = verify_export(write(replace(pride_document, signer=ADA), fmt, tmp_path))
    assert check.signed
    assert len(check.manifest["chapters"]) == 61


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("styling", [False, True])
def test_hostile_text_verifies(fmt: str, styling: bool, tmp_path: Path) -> None:
    options = {"provenance_styling": styling} if fmt in ("epub", "html") else {}
    if fmt == "markdown":
        options = {"annotate": styling}
    path = write(hostile_document(), fmt, tmp_path, **options)
    check = verify_export(path)
    assert check.signed
    if fmt == "markdown" and not styling:
        assert check.manifest["text_form"] == "exact"


def test_the_markdown_folder_verifies(signed_sample: BookDocument, tmp_path: Path) -> None:
    folder = export_markdown(signed_sample, tmp_path / "book", folder=True)
    check = verify_export(folder / "00-foreword.md")
    assert sorted(check.manifest["export"]["files"]) == sorted(p.name for p in folder.iterdir())
    text = (folder / "02-the-almanac.md").read_text()
    at = text.rindex("e")  # a letter of the chapter's last paragraph
    (folder / "02-the-almanac.md").write_text(text[:at] + "o" + text[at + 1 :])
    with pytest.raises(VerifyFailed, match="chapter 2"):
        verify_export(folder / "00-foreword.md")


def test_unsigned_exports_say_so(sample_document: BookDocument, tmp_path: Path) -> None:
    document = replace(sample_document, unsigned_reason="no system keyring is available")
    check = verify_export(write(document, "epub", tmp_path))
    assert not check.signed
    assert check.manifest["signer"] is None
    assert check.manifest["unsigned_reason"] == "no system keyring is available"
    assert check.manifest["signature"]["algorithm"] == "sha256"
    assert check.notes[0].startswith("NOT SIGNED: no system keyring is available")
    with pytest.raises(VerifyFailed, match="not signed"):
        verify_export(tmp_path / "book.epub", expect_key=ADA.fingerprint)


def test_the_markdown_export_imports_back_without_the_manifest(
    pride_document: BookDocument, tmp_path: Path
) -> None:
    path = write(replace(pride_document, signer=ADA), "markdown", tmp_path)
    parsed = parse_source(path)
    assert [c.text for c in parsed.chapters] == [c.text for c in pride_document.chapters]  # type: ignore[union-attr]
    assert [c.title for c in parsed.chapters] == [c.title for c in pride_document.chapters]  # type: ignore[union-attr]


def test_the_signed_epub_passes_epubcheck(tmp_path: Path) -> None:
    from test_epub import run_epubcheck

    run_epubcheck(write(hostile_document(), "epub", tmp_path))


def test_the_manifest_is_canonical_and_inert(signed_sample: BookDocument, tmp_path: Path) -> None:
    with zipfile.ZipFile(write(signed_sample, "epub", tmp_path)) as archive:
        raw = archive.read(EPUB_ENTRY)
    manifest = json.loads(raw)
    assert canonical(manifest) == raw
    assert not re.search(rb"[<>&\n\r]", raw)
    assert ADA.public_key_b64 in raw.decode()
    assert set(manifest) >= {"statement", "coauthor_version", "chain", "figures", "foreword"}
    assert signed_bytes(manifest) == canonical(
        {k: v for k, v in manifest.items() if k != "signature"}
    )


# -- tampering ----------------------------------------------------------------------------------


def edit_entry(path: Path, name: str, change: Callable[[bytes], bytes]) -> None:
    """Rewrite one entry of an EPUB (``name`` ending), keeping ``mimetype`` first."""
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as out:
        for info, data in entries:
            if info.filename.endswith(name):
                data = change(data)
            out.writestr(info, data)


def edit(path: Path, fmt: str, where: str, change: Callable[[bytes], bytes]) -> None:
    if fmt == "epub":
        edit_entry(path, where, change)
    else:
        path.write_bytes(change(path.read_bytes()))


def change_letter(after: bytes) -> Callable[[bytes], bytes]:
    """Change the first letter after ``after`` and after the next ``<p>`` or blank line."""

    def change(data: bytes) -> bytes:
        start = data.index(after)
        start = min(i for i in (data.find(b"<p>", start), data.find(b"\n\n", start)) if i >= 0)
        match = re.compile(rb"[A-Za-z]").search(data, start + 3)
        assert match is not None
        letter = b"x" if match.group() != b"x" else b"y"
        return data[: match.start()] + letter + data[match.end() :]

    return change


def change_figure(after: bytes) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        at = data.index(b"%", data.index(after)) - 1
        digit = b"7" if data[at : at + 1] != b"7" else b"8"
        return data[:at] + digit + data[at + 1 :]

    return change


def change_manifest_byte(data: bytes) -> bytes:
    found = re.search(rb'head_hash\\?":\\?"', data)  # Markdown: JSON inside a JSON string
    assert found is not None
    at = found.end() + 10
    byte = b"0" if data[at : at + 1] != b"0" else b"1"
    return data[:at] + byte + data[at + 1 :]


CHAPTER_ONE = {
    "epub": ("chapter-001.xhtml", b"<h1"),
    "markdown": ("", b"\n# The Keeper"),
    "html": ("", b'id="chapter-1"'),
    "report": ("", b'<article class="chapter" id="chapter-1"'),
}
FOREWORD = {
    "epub": ("foreword.xhtml", b"<h1"),
    "markdown": ("", b"\n# How this book was written"),
    "html": ("", b'id="foreword"'),
    "report": ("", b'<section id="foreword"'),
}
MANIFEST = {"epub": EPUB_ENTRY, "markdown": "", "html": "", "report": ""}


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_letter_of_a_chapter(signed_sample: BookDocument, fmt: str, tmp_path: Path) -> None:
    path = write(signed_sample, fmt, tmp_path)
    where, after = CHAPTER_ONE[fmt]
    edit(path, fmt, where, change_letter(after))
    with pytest.raises(VerifyFailed, match=r"chapter 1 \(The Keeper\): its text is not"):
        verify_export(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_figure_of_the_foreword(signed_sample: BookDocument, fmt: str, tmp_path: Path) -> None:
    path = write(signed_sample, fmt, tmp_path)
    where, after = FOREWORD[fmt]
    edit(path, fmt, where, change_figure(after))
    with pytest.raises(VerifyFailed, match="the foreword is not the foreword the manifest lists"):
        verify_export(path)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("signed", [True, False])
def test_one_byte_of_the_manifest(
    sample_document: BookDocument, fmt: str, signed: bool, tmp_path: Path
) -> None:
    path = write(replace(sample_document, signer=ADA if signed else None), fmt, tmp_path)
    edit(path, fmt, MANIFEST[fmt], change_manifest_byte)
    expected = "signature does not match" if signed else "checksum does not match"
    with pytest.raises(VerifyFailed, match=expected):
        verify_export(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_change_outside_the_texts(signed_sample: BookDocument, fmt: str, tmp_path: Path) -> None:
    path = write(signed_sample, fmt, tmp_path)
    where = "content.opf" if fmt == "epub" else ""
    edit(path, fmt, where, lambda data: data.replace(b"Ada Marlowe", b"Ada Marlowf", 1))
    with pytest.raises(VerifyFailed, match="changed after"):
        verify_export(path)


def resign(manifest: dict, key: AuthorKey, *, keep_signer: bool = False) -> dict:
    manifest = dict(manifest)
    if not keep_signer:
        manifest["signer"] = {
            "algorithm": "ed25519",
            "name": key.name,
            "fingerprint": key.fingerprint,
            "public_key": key.public_key_b64,
        }
    manifest["signature"] = {"algorithm": "ed25519", "value": key.sign(signed_bytes(manifest))}
    return manifest


def replace_manifest(path: Path, manifest: dict) -> None:
    edit_entry(path, EPUB_ENTRY, lambda _: canonical(manifest))


def test_a_manifest_signed_by_another_key(signed_sample: BookDocument, tmp_path: Path) -> None:
    path = write(signed_sample, "epub", tmp_path)
    manifest = verify_export(path).manifest
    replace_manifest(path, resign(manifest, EVE))
    check = verify_export(path)  # a valid signature, by Eve: said so, and refused when asked
    assert (check.signer_name, check.fingerprint) == ("Eve", EVE.fingerprint)
    with pytest.raises(
        VerifyFailed, match=f"signed by another key: Eve, fingerprint {EVE.fingerprint}"
    ):
        verify_export(path, expect_key=ADA.fingerprint)
    replace_manifest(path, resign(manifest, EVE, keep_signer=True))
    with pytest.raises(VerifyFailed, match="signed by another key than the one it names"):
        verify_export(path)
    forged = resign(manifest, EVE)
    forged["signer"] = {**forged["signer"], "fingerprint": ADA.fingerprint}
    replace_manifest(path, forged)
    with pytest.raises(VerifyFailed, match="but its public key's is"):
        verify_export(path)


# -- against the project's chain ----------------------------------------------------------------


def test_the_manifest_against_the_project(tmp_path: Path) -> None:
    path = build_sample(tmp_path / "sample.coauthor")
    project_file = ProjectFile.open(path)
    project = project_file.load()
    for generation in list(project.generations.values()):
        if generation.review_state is ReviewState.PENDING:
            project.review(generation.id, ReviewState.APPROVED, "Ada", shown_ms=1000)
    project.record_signing_key(ADA.fingerprint, ADA.public_key_b64, ADA.name)
    project_file.close(project)

    project_file = ProjectFile.open(path, readonly=True)
    try:
        project = project_file.load()
        epub = write(replace(prepare_export(project), signer=ADA), "epub", tmp_path)
        check = verify_export(epub)
        lines = check_against_chain(check, project_file.events(upto=check.head[0]), "sample")
        assert "the signing key is recorded in its chain (Ada Marlowe)" in " ".join(lines)

        eve = write(replace(prepare_export(project), signer=EVE), "markdown", tmp_path)
        check = verify_export(eve)
        with pytest.raises(VerifyFailed, match="signed by another key: Eve"):
            check_against_chain(check, project_file.events(upto=check.head[0]), "sample")

        check = verify_export(epub)
        check.manifest["chain"]["head_hash"] = "00" * 32
        with pytest.raises(VerifyFailed, match="has another hash than the manifest's head"):
            check_against_chain(check, project_file.events(upto=check.head[0]), "sample")
        check.manifest["chain"]["head_seq"] = 10**6
        with pytest.raises(VerifyFailed, match="is not in sample's chain"):
            check_against_chain(check, project_file.events(upto=10**6), "sample")
    finally:
        project_file.close()
