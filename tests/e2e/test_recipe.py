"""The paper page's shell recipe, run with bash exactly as the page shows it, against a served site."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitegen.build.paper_job import PaperContext, process_state
from sitegen.build.pipeline import load_inputs_config
from tests.conftest import SEED_PATH, alias_target
from tests.e2e.visitor_site import (
    PLACEHOLDER_SITE,
    SEED_KEY_FINGERPRINT,
    SEED_PITH,
    SEED_SHA256,
    SEED_SUFFIX,
    Served,
    seed_content,
    seed_paper,
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


def page_of(served: Served, suffix: str = SEED_SUFFIX) -> Path:
    return served.site / "pith" / suffix / "index.html"


def placeholder_set(served: Served, suffix: str = SEED_SUFFIX) -> str:
    """The recipe after the one edit the page asks of a reader: SITE set to where the mirror is."""
    text = recipe_of(page_of(served, suffix))
    assert text.count(PLACEHOLDER_SITE) == 1
    return text.replace(PLACEHOLDER_SITE, served.mirror.rstrip("/"))


SEED_LINES = [
    f"2. canonical SHA-256: {SEED_SHA256}",
    f"3. Pith number: {SEED_PITH}",
    "4. source: 2607.01083 version 1",
    "5. title hash: 7bec57620db6c4e71ff39a1b7d597965b98a6e7611740ceb43f52e0f42f9f606",
    f"6. registry key fingerprint: {SEED_KEY_FINGERPRINT}",
    "Signature Verified Successfully",
    "Re-check passed: record.json is the record this page shows, signed with the registry's key",
]


def test_recipe_derives_every_value_from_the_record_and_passes_on_the_seed(
    seed_mirror: Served, workdir: Path
) -> None:
    """Run against the served seed, the recipe prints each value it derived, the verified signature, and passes."""
    proc = run(placeholder_set(seed_mirror), workdir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == SEED_LINES
    assert proc.stderr == ""


def test_recipe_fails_on_an_altered_record(seed_mirror: Served, workdir: Path) -> None:
    """With the served record.json altered, the recipe stops at the hash step and names it."""
    record = seed_mirror.site / "pith" / SEED_SUFFIX / "record.json"
    original = record.read_bytes()
    record.write_bytes(original.replace(b'"cs.LG"', b'"cs.CV"'))
    try:
        proc = run(placeholder_set(seed_mirror), workdir)
    finally:
        record.write_bytes(original)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Re-check FAILED at step 2 (canonical SHA-256): record.json hashes to ")
    assert f"the page shows {SEED_SHA256}" in proc.stderr
    assert "Re-check passed" not in proc.stdout


def test_recipe_fails_on_an_altered_signature(seed_mirror: Served, workdir: Path) -> None:
    """With one bit of the served signature.bin flipped, every derivation matches and the signature step fails."""
    signature = seed_mirror.site / "pith" / SEED_SUFFIX / "signature.bin"
    original = signature.read_bytes()
    signature.write_bytes(bytes([original[0] ^ 1]) + original[1:])
    try:
        proc = run(placeholder_set(seed_mirror), workdir)
    finally:
        signature.write_bytes(original)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[:5] == SEED_LINES[:5]
    assert "Signature Verification Failure" in proc.stdout + proc.stderr
    assert "Re-check FAILED at step 7 (Ed25519 signature)" in proc.stderr


def test_recipe_rejects_a_key_that_is_not_the_registrys(seed_mirror: Served, workdir: Path) -> None:
    """When the 'registry' serves another key, its fingerprint differs from the receipt's: step 6 fails."""
    key_file = seed_mirror.registry / "pith-signing-key.json"
    original = key_file.read_bytes()
    other = SigningKey.generate("pith-v1-2026-05")
    key_file.write_text(json.dumps(other.key_document()), encoding="utf-8")
    try:
        proc = run(placeholder_set(seed_mirror), workdir)
    finally:
        key_file.write_bytes(original)
    assert proc.returncode == 1
    assert (
        f"Re-check FAILED at step 6 (registry key): the registry's key has fingerprint {other.fingerprint_hex}; "
        f"the receipt's key has {SEED_KEY_FINGERPRINT}"
    ) in proc.stderr


def test_recipe_fails_at_the_title_step_on_a_replaced_title(title_replaced: Served, workdir: Path) -> None:
    """A title replaced after signing (page failed): hash, Pith number and source match, the title shown does
    not hash to the signed title hash, so the recipe names that step and exits 1."""
    proc = run(placeholder_set(title_replaced), workdir)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == SEED_LINES[:3]
    assert proc.stderr.startswith("Re-check FAILED at step 5 (title hash): the page's title hashes to ")
    assert "record.json's title hash is 7bec5762" in proc.stderr
    assert "Re-check passed" not in proc.stdout


def test_recipe_does_not_pass_a_failed_page_when_every_step_matches(
    state_hash_wrong: Served, workdir: Path
) -> None:
    """A page failed on a check the recipe does not make (the state hash): every step matches, exit 1 at step 8."""
    proc = run(placeholder_set(state_hash_wrong), workdir)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == SEED_LINES[:-1]
    assert proc.stderr.startswith(
        "Re-check FAILED at step 8 (the page's verdict): the build found this paper failed (state.state_sha256)"
    )


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
    assert proc.stdout.splitlines() == SEED_LINES


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
    assert "CANONICAL_SHA256='(not stated as 64 hex digits)'" in text
    assert "KEY_FINGERPRINT='(not stated as 32 hex digits)'" in text
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith("pwned")) == []
    assert proc.returncode == 1
    assert f"record.json hashes to {SEED_SHA256}; the page shows (not stated as 64 hex digits)" in proc.stderr


def test_recipe_quotes_a_hostile_title_exactly(
    tmp_path_factory: pytest.TempPathFactory, workdir: Path
) -> None:
    """A signed title with quotes, command substitutions and a line break reaches the title hash byte for
    byte (the recipe passes with the signer's key) and runs nothing."""
    title = "It's $(touch pwned-a) `touch pwned-b`\n'; touch pwned-c; echo '\\ \u00c9t\u00c9"
    key = SigningKey.from_seed(b"\x0c" * 32, "hostile-title-key")
    paper = seed_paper(key, "2611.00002", title, ["Ada Lovelace"])
    root = tmp_path_factory.mktemp("recipe-title")
    with serve_seed_site(root, extra={"2611.00002.state.json": paper}) as served:
        (served.registry / "pith-signing-key.json").write_text(
            json.dumps(key.key_document()), encoding="utf-8"
        )
        suffix = alias_target(served.site, "arxiv/2611.00002").rsplit(":", 1)[1]
        proc = run(placeholder_set(served, suffix), workdir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("Re-check passed")
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith("pwned")) == []


_STANDARD = {"curl", "sha256sum", "base32", "cut", "openssl", "python3", "tail"}
_SHELL = {"echo", "printf", "exit", "if", "then", "else", "fi"}


def test_recipe_uses_only_standard_tools(seed_mirror: Served) -> None:
    """Every command is a standard tool, a shell builtin, or one of the recipe's two functions (defined in
    it); every python3 program is a single-quoted literal, so no value is ever spliced into code."""
    text = recipe_of(page_of(seed_mirror))
    commands = set()
    for line in text.splitlines():
        # Quoted text is data, not commands (but a "$(...)" inside double quotes runs one).
        code = re.sub(r"'[^']*'", "''", line)
        code = re.sub(r'"(?:[^"$]|\$(?!\())*"', '""', code).split("#", 1)[0]
        for match in re.finditer(r"(?:^|\||;|\{|\$\()\s*\"?([A-Za-z_][A-Za-z0-9_]*)(=?)", code):
            if not match.group(2):
                commands.add(match.group(1))
    functions = set(re.findall(r"^([a-z]+)\(\) \{", text, flags=re.MULTILINE))
    assert functions == {"fail", "field"}
    assert commands - _SHELL - functions == _STANDARD
    programs = re.findall(r"python3 -c ('[^']*')", text)
    assert len(programs) == text.count("python3 ") - 1 == 3  # and the tools line names it
    assert not any("$" in program for program in programs)


def test_contexts_in_one_process_each_render_their_own_mirror(tmp_path: Path) -> None:
    """Papers rendered in one process for one site after another (a test run, ``serve``'s rebuilds) each
    show their own site's base URL in the recipe, never the one of an earlier site whose context was
    freed. Each context is dropped just before the next is made, so the next reuses its memory (its id)."""
    content = seed_content(tmp_path / "content", "title: Mirror\n")
    config, keyring = load_inputs_config(content)
    bases = [f"https://mirror-{b}.example/" if b % 2 else "/mirror/" for b in range(6)]
    configs = [replace(config, base_url=base) for base in bases]
    outs = [tmp_path / f"site-{b}" for b in range(6)]
    ctx: PaperContext | None = None
    for config_b, out in zip(configs, outs, strict=True):
        out.mkdir()
        ctx = None
        ctx = PaperContext(content_root=content, out_root=out, config=config_b, keyring=keyring)
        process_state(ctx, "states/2607.01083.state.json")
    shown = [
        next(
            line.split()[0]
            for line in recipe_of(out / "pith" / SEED_SUFFIX / "index.html").splitlines()
            if line.startswith("SITE=")
        )
        for out in outs
    ]
    assert shown == [
        f"SITE='https://mirror-{b}.example'" if b % 2 else f"SITE='{PLACEHOLDER_SITE}'" for b in range(6)
    ]
