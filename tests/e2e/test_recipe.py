"""The paper page's shell recipe, run with bash exactly as the page shows it, against a served site."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import SEED_PATH
from tests.e2e.visitor_site import (
    PLACEHOLDER_SITE,
    SEED_KEY_FINGERPRINT,
    SEED_PITH,
    SEED_SHA256,
    SEED_SUFFIX,
    Served,
    serve_seed_site,
)
from tests.synth import SigningKey

TOOLS = ("bash", "curl", "sha256sum", "base32", "openssl", "python3", "cut", "tail")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not all(shutil.which(t) for t in TOOLS), reason=f"the recipe needs {', '.join(TOOLS)} on PATH"
    ),
]


class _RecipeText(HTMLParser):
    """The text of ``<pre id="recipe">``, as a browser shows it (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += 1
        elif tag == "pre" and ("id", "recipe") in attrs:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def recipe_of(page: Path) -> str:
    parser = _RecipeText()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.parts, f"no recipe on {page}"
    return "".join(parser.parts)


def run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory to run the recipe in, as the page asks."""
    path = tmp_path / "run"
    path.mkdir()
    return path


def page_of(served: Served) -> Path:
    return served.site / "pith" / SEED_SUFFIX / "index.html"


def placeholder_set(served: Served) -> str:
    """The recipe after the one edit the page asks of a reader: SITE set to where the mirror is."""
    text = recipe_of(page_of(served))
    assert text.count(PLACEHOLDER_SITE) == 1
    return text.replace(PLACEHOLDER_SITE, served.mirror.rstrip("/"))


def test_recipe_recomputes_hash_and_pith_number_and_verifies_the_signature(
    seed_mirror: Served, workdir: Path
) -> None:
    """Run against the served seed, the recipe prints the canonical hash, the Pith number, the key fingerprint and a verified signature."""
    proc = run(placeholder_set(seed_mirror), workdir)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines == [
        f"{SEED_SHA256}  record.json",
        SEED_PITH,
        SEED_KEY_FINGERPRINT,
        "Signature Verified Successfully",
    ]


def test_recipe_fails_on_an_altered_record(seed_mirror: Served, workdir: Path) -> None:
    """With the served record.json altered, the hash and Pith number change and the signature check fails."""
    record = seed_mirror.site / "pith" / SEED_SUFFIX / "record.json"
    original = record.read_bytes()
    record.write_bytes(original.replace(b'"cs.LG"', b'"cs.CV"'))
    try:
        proc = run(placeholder_set(seed_mirror), workdir)
    finally:
        record.write_bytes(original)
    assert proc.returncode != 0
    assert SEED_SHA256 not in proc.stdout
    assert SEED_PITH not in proc.stdout
    assert "Signature Verified Successfully" not in proc.stdout
    assert "Signature Verification Failure" in proc.stdout + proc.stderr


def test_recipe_fails_on_an_altered_signature(seed_mirror: Served, workdir: Path) -> None:
    """With one bit of the served signature.bin flipped, the hashes still match and the signature check fails."""
    signature = seed_mirror.site / "pith" / SEED_SUFFIX / "signature.bin"
    original = signature.read_bytes()
    signature.write_bytes(bytes([original[0] ^ 1]) + original[1:])
    try:
        proc = run(placeholder_set(seed_mirror), workdir)
    finally:
        signature.write_bytes(original)
    assert proc.returncode != 0
    assert f"{SEED_SHA256}  record.json" in proc.stdout
    assert "Signature Verification Failure" in proc.stdout + proc.stderr


def test_recipe_rejects_a_key_that_is_not_the_registrys(seed_mirror: Served, workdir: Path) -> None:
    """When the 'registry' serves another key, its fingerprint differs from the page's and the signature fails."""
    key_file = seed_mirror.registry / "pith-signing-key.json"
    original = key_file.read_bytes()
    other = SigningKey.generate("pith-v1-2026-05")
    key_file.write_text(json.dumps(other.key_document()), encoding="utf-8")
    try:
        proc = run(placeholder_set(seed_mirror), workdir)
    finally:
        key_file.write_bytes(original)
    assert other.fingerprint_hex in proc.stdout
    assert SEED_KEY_FINGERPRINT not in proc.stdout
    assert "Signature Verification Failure" in proc.stdout + proc.stderr


def test_recipe_runs_verbatim_when_the_base_url_is_absolute(
    tmp_path_factory: pytest.TempPathFactory, workdir: Path
) -> None:
    """With an absolute base_url the page's recipe needs no edit at all: it names this mirror itself."""
    root = tmp_path_factory.mktemp("recipe-absolute")
    with serve_seed_site(root, absolute=True) as served:
        text = recipe_of(page_of(served))
        assert PLACEHOLDER_SITE not in text
        proc = run(text, workdir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "Signature Verified Successfully"
    assert SEED_PITH in proc.stdout.splitlines()


def test_recipe_never_runs_text_from_the_state_file(
    tmp_path_factory: pytest.TempPathFactory, workdir: Path
) -> None:
    """Stated values with newlines and commands appear in the recipe only as a note, never as a command."""
    state = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    payload = state["current"]["record_created"]["payload"]
    payload["canonical_sha256"] = "d841\ntouch pwned-hash\n"
    payload["receipt"]["key_id"] = "not-a-trusted-key"
    payload["receipt"]["public_key_fingerprint"] = "8d4b\ntouch pwned-fingerprint\n"
    root = tmp_path_factory.mktemp("recipe-hostile")
    with serve_seed_site(root, extra={"2607.01083.state.json": json.dumps(state).encode()}) as served:
        text = recipe_of(page_of(served))
        proc = run(text.replace(PLACEHOLDER_SITE, served.mirror.rstrip("/")), workdir)
    assert "touch" not in text
    assert "expect (not stated as 64 hex digits)" in text
    assert "must be (not stated as 32 hex digits)" in text
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith("pwned")) == []
    assert f"{SEED_SHA256}  record.json" in proc.stdout


def test_recipe_uses_only_standard_tools(seed_mirror: Served) -> None:
    """Every command in the recipe is curl, sha256sum, base32, openssl, python3 -c or a shell builtin."""
    commands = set()
    for line in recipe_of(page_of(seed_mirror)).splitlines():
        code = line.split("#", 1)[0] if not line.lstrip().startswith("printf") else line
        for match in re.finditer(r"(?:^|\||\$\()\s*\"?([A-Za-z_][A-Za-z0-9_]*)(=?)", code):
            if not match.group(2):
                commands.add(match.group(1))
    assert commands == {"curl", "sha256sum", "base32", "cut", "openssl", "echo", "printf", "python3", "tail"}
    python_lines = [line for line in recipe_of(page_of(seed_mirror)).splitlines() if "$(python3" in line]
    assert len(python_lines) == 1 and "$(python3 -c " in python_lines[0]
