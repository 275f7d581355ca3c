"""``coauthor export`` signs a provenance manifest; ``coauthor verify FILE`` checks it.

The real command in a subprocess. Without a keyring backend (as here) exports are unsigned and
say so; the signed path runs with a test keyring kept in a file (``file_keyring.py``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coauthor.app.sample import build_sample
from coauthor.core.generation import ReviewState
from coauthor.publish.manifest import EPUB_ENTRY, canonical, signed_bytes
from coauthor.publish.signing import AuthorKey
from coauthor.store import ProjectFile

HERE = Path(__file__).resolve().parent


def _ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    return result.stdout.decode()


def _fails(result: subprocess.CompletedProcess[bytes], *words: str) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 1, (result.stdout, stderr)
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in stderr, stderr
    return stderr


def edit_entry(path: Path, name: str, change) -> None:
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as out:
        for info, data in entries:
            out.writestr(info, change(data) if info.filename.endswith(name) else data)


def manifest_of(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(EPUB_ENTRY))


@pytest.fixture(scope="module")
def pride(cli, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pride")
    project = folder / "pride.coauthor"
    _ok(cli("import", data_dir / "pride_and_prejudice.txt", "--into", project))
    return project


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("epub", "p.epub"), ("markdown", "p.md"), ("html", "p.html"), ("report", "r.html")],
)
def test_pride_and_prejudice_exports_verify(cli, pride: Path, fmt: str, name: str) -> None:
    out = pride.parent / name
    result = cli("export", pride, "--format", fmt, "--out", out)
    assert result.returncode == 0, result.stderr
    assert b"not signed: no system keyring" in result.stderr
    stdout = _ok(cli("verify", out))
    assert stdout.startswith(f"{out}: OK")
    assert "NOT SIGNED: no system keyring" in stdout
    assert "61 chapter texts" in stdout
    assert "Pride and Prejudice by Jane Austen" in stdout
    assert "it is not a certificate of human authorship" in stdout
    assert "certified" not in stdout.lower()
    stdout = _ok(cli("verify", out, "--project", pride))
    assert "the figures are the project's at event" in stdout


def test_the_markdown_export_imports_back(cli, pride: Path) -> None:
    out = pride.parent / "again.md"
    _ok(cli("export", pride, "--format", "markdown", "--out", out))
    again = pride.parent / "again.coauthor"
    _ok(cli("import", out, "--into", again))
    for chapter in ("1", "30", "61"):
        assert _ok(cli("cat", again, "--chapter", chapter)) == _ok(
            cli("cat", pride, "--chapter", chapter)
        )


@pytest.fixture
def pride_epub(cli, pride: Path, tmp_path: Path) -> Path:
    out = tmp_path / "pride.epub"
    _ok(cli("export", pride, "--format", "epub", "--out", out))
    return out


def test_one_letter_of_a_chapter(cli, pride_epub: Path) -> None:
    edit_entry(pride_epub, "chapter-030.xhtml", lambda d: d.replace(b"Elizabeth", b"Elizabetj", 1))
    _fails(cli("verify", pride_epub), "chapter 30", "its text is not the text the manifest lists")


def test_one_figure_of_the_foreword(cli, pride_epub: Path) -> None:
    def change(data: bytes) -> bytes:
        at = data.index(b"%") - 1
        return data[:at] + (b"7" if data[at : at + 1] != b"7" else b"8") + data[at + 1 :]

    edit_entry(pride_epub, "foreword.xhtml", change)
    _fails(cli("verify", pride_epub), "the foreword is not the foreword the manifest lists")


def test_one_byte_of_the_manifest(cli, pride_epub: Path) -> None:
    def change(data: bytes) -> bytes:
        at = data.index(b'"head_hash":"') + 20
        return data[:at] + (b"0" if data[at : at + 1] != b"0" else b"1") + data[at + 1 :]

    edit_entry(pride_epub, EPUB_ENTRY, change)
    _fails(cli("verify", pride_epub), "the manifest was changed after it was made")


def test_a_broken_manifest(cli, pride_epub: Path) -> None:
    edit_entry(pride_epub, EPUB_ENTRY, lambda d: d[:-1])
    _fails(cli("verify", pride_epub), "the manifest is not valid JSON")


def test_not_an_export(cli, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Hello</p></body></html>\n")
    _fails(cli("verify", page), "carries no provenance manifest")
    _fails(cli("verify", tmp_path / "missing.epub"), "there is no such file")


# -- signed, with a keyring ----------------------------------------------------------------------


@pytest.fixture
def keyring_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "file_keyring.FileKeyring"
    env["COAUTHOR_TEST_KEYRING"] = str(tmp_path / "keyring.json")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    return env


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = build_sample(tmp_path / "sample.coauthor")
    project_file = ProjectFile.open(path)
    project = project_file.load()
    for generation in list(project.generations.values()):
        if generation.review_state is ReviewState.PENDING:
            project.review(generation.id, ReviewState.APPROVED, "Ada", shown_ms=1000)
    project_file.close(project)
    return path


def _key_events(cli, project: Path) -> int:
    log = _ok(cli("log", project))
    return len(re.findall(r"signing key [0-9a-f:]{39}|\"op\": \"key\"", log))


def test_a_signed_export(cli, sample: Path, keyring_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "sample.epub"
    result = cli("export", sample, "--format", "epub", "--out", out, env=keyring_env)
    assert result.returncode == 0, result.stderr
    match = re.search(rb"Signed by Ada Marlowe, key ([0-9a-f:]{39})", result.stderr)
    assert match, result.stderr
    fingerprint = match.group(1).decode()
    stored = json.loads((tmp_path / "keyring.json").read_text())
    assert list(stored) == ["Coauthor\nsigning-key:Ada Marlowe"]
    secret = next(iter(stored.values()))
    assert secret.encode() not in sample.read_bytes()  # the private key is not in the project
    assert secret.encode() not in out.read_bytes()
    assert _key_events(cli, sample) == 1

    stdout = _ok(cli("verify", out, "--project", sample, "--key", fingerprint.upper()))
    assert f"Signed by Ada Marlowe, Ed25519 key {fingerprint}." in stdout
    assert "the signing key is recorded in its chain (Ada Marlowe)" in stdout
    assert "unchanged since the holder of this key made it" in stdout
    assert "does not prove that the key holder typed honestly" in stdout

    # A second export reuses the key and records it only once.
    again = tmp_path / "sample.md"
    _ok(cli("export", sample, "--format", "markdown", "--out", again, env=keyring_env))
    assert _key_events(cli, sample) == 1
    _ok(cli("verify", again, "--project", sample))

    # Signed by another key: reported by --key and by the project's chain.
    eve = AuthorKey.generate("Eve")
    manifest = manifest_of(out)
    manifest["signer"] = {
        "algorithm": "ed25519",
        "name": "Eve",
        "fingerprint": eve.fingerprint,
        "public_key": eve.public_key_b64,
    }
    manifest["signature"] = {"algorithm": "ed25519", "value": eve.sign(signed_bytes(manifest))}
    edit_entry(out, EPUB_ENTRY, lambda _: canonical(manifest))
    stdout = _ok(cli("verify", out))
    assert f"Signed by Eve, Ed25519 key {eve.fingerprint}." in stdout
    _fails(cli("verify", out, "--key", fingerprint), "signed by another key: Eve")
    _fails(
        cli("verify", out, "--project", sample),
        "signed by another key: Eve",
        "is not a key",
    )


def test_verify_of_a_project_is_unchanged(cli, sample: Path) -> None:
    assert _ok(cli("verify", sample)).startswith(f"{sample}: OK")
    result = cli("verify", sample, "--key", "abcd")
    _fails(result, "--project and --key apply to an export")


def test_the_cli_never_imports_the_signing_code_for_other_commands() -> None:
    code = "import sys, coauthor.cli; print('cryptography' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
