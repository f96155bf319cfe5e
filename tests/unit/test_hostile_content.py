"""Hostile content directories: symlinks, odd file names, FIFOs, bad keys, unsafe YAML, case collisions."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from sitegen.build.pipeline import build_site
from sitegen.cli import main
from tests.conftest import SEED_PATH
from tests.e2e.sitebuild import report_entries
from tests.synth import SigningKey

VECTORS = Path(__file__).resolve().parent.parent / "vectors"

Build = Callable[[Path], tuple[int, str]]


@pytest.fixture
def build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Build:
    """Run ``python -m sitegen build`` in-process; return the exit code and stderr."""

    def run(content: Path) -> tuple[int, str]:
        code = main(["build", "--content", str(content), "--out", str(tmp_path / "out"), "--jobs", "1"])
        return code, capsys.readouterr().err

    return run


def _report(tmp_path: Path) -> dict[str, dict[str, object]]:
    return report_entries(tmp_path / "out")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the content directory, holding files a symlink may try to reach."""
    path = tmp_path / "outside"
    path.mkdir()
    shutil.copy(SEED_PATH, path / "seed.state.json")
    (path / "site.yaml").write_text("title: Secret\n", encoding="utf-8")
    (path / "page.md").write_text("---\ntitle: Secret page\nslug: secret\n---\nsecret text\n")
    return path


def test_state_symlink_leaving_content_is_rejected(
    make_content: Callable[..., Path], build: Build, outside: Path, tmp_path: Path
) -> None:
    """A state file symlinked to a file outside content/ is rejected and its paper is not built."""
    content = make_content()
    (content / "states" / "escape.state.json").symlink_to(outside / "seed.state.json")
    code, err = build(content)
    assert code == 1
    assert "states/escape.state.json: input.symlink: symlink points outside the content directory" in err
    entry = _report(tmp_path)["states/escape.state.json"]
    assert entry["status"] == "rejected"
    assert not (tmp_path / "out" / "pith").exists()


def test_symlinked_states_directory_is_not_followed(
    make_content: Callable[..., Path], build: Build, outside: Path, tmp_path: Path
) -> None:
    """``content/states`` itself symlinked elsewhere is refused, not walked."""
    content = make_content()
    (content / "states").rmdir()
    (content / "states").symlink_to(outside, target_is_directory=True)
    code, err = build(content)
    assert code == 1
    assert "states: input.symlink: symlinked directories are not followed" in err
    assert _report(tmp_path)["states"]["status"] == "rejected"
    assert not (tmp_path / "out" / "pith").exists()


def test_page_symlink_leaving_content_is_not_published(
    make_content: Callable[..., Path], build: Build, outside: Path, tmp_path: Path, seed_bytes: bytes
) -> None:
    """A Markdown page symlinked outside content/ is refused with a warning; its text is nowhere."""
    content = make_content({"seed.state.json": seed_bytes})
    (content / "pages").mkdir()
    (content / "pages" / "secret.md").symlink_to(outside / "page.md")
    code, err = build(content)
    assert code == 0
    assert "warning: pages/secret.md: input.symlink: symlink points outside the content directory" in err
    assert not (tmp_path / "out" / "secret").exists()
    assert all(b"secret text" not in p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())


@pytest.mark.parametrize("where", ["site.yaml", "keys", "keys/trusted.json"])
def test_config_symlinks_leaving_content_stop_the_build(
    make_content: Callable[..., Path], build: Build, tmp_path: Path, outside: Path, where: str
) -> None:
    """site.yaml, the keys directory or a key file symlinked outside content/: exit 2, nothing built."""
    content = make_content()
    target = {"site.yaml": outside / "site.yaml", "keys": outside, "keys/trusted.json": outside / "k.json"}
    SigningKey.from_seed(b"outside", "outside-key").write_key_file(outside)
    (outside / "outside-key.json").rename(outside / "k.json")
    if where == "keys":
        shutil.rmtree(content / "keys")
    else:
        (content / where).unlink(missing_ok=True)
    (content / where).symlink_to(target[where])
    code, err = build(content)
    assert code == 2
    assert "input.symlink" in err
    assert err.startswith("error: ") and f"{where}: " in err.splitlines()[0]
    assert not (tmp_path / "out").exists()


def test_fifo_inputs_are_refused_without_blocking(
    make_content: Callable[..., Path], build: Build, tmp_path: Path, seed_bytes: bytes
) -> None:
    """A FIFO named like a state file or a page is refused, never opened (it would block the build)."""
    content = make_content({"seed.state.json": seed_bytes})
    os.mkfifo(content / "states" / "pipe.state.json")
    (content / "pages").mkdir()
    os.mkfifo(content / "pages" / "pipe.md")
    code, err = build(content)
    assert code == 1
    assert "states/pipe.state.json: input.read: not a regular file" in err
    assert "error: pages/pipe.md: input.read: not a regular file" in err


def test_odd_file_names_are_built_and_reported(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], build: Build, tmp_path: Path
) -> None:
    """Spaces, quotes, markup, non-ASCII, 240-character and case-only-different names all build."""
    key = SigningKey.from_seed(b"odd-names", "odd-key")
    names = [
        "with space.state.json",
        "quote'\"<b>x</b>.state.json",
        "unicodé-名前-🙂.state.json",
        "L" * 229 + ".state.json",
        "Case.state.json",
        "case.state.json",
    ]
    states = {name: new_paper(key, f"2607.0{i:04d}", title=f"Paper {i}") for i, name in enumerate(names)}
    content = make_content(states, keys=[key])
    code, err = build(content)
    assert code == 0, err
    report = _report(tmp_path)
    assert sorted(report) == sorted(f"states/{n}" for n in names)
    assert {e["status"] for e in report.values()} == {"verified"}
    html = (tmp_path / "out" / "verification" / "index.html").read_text(encoding="utf-8")
    assert "<b>x</b>" not in html


def test_undecodable_and_control_character_names_are_rejected_with_escaped_names(
    make_content: Callable[..., Path], build: Build, tmp_path: Path, seed_bytes: bytes
) -> None:
    """A non-UTF-8 file name and one with a newline are rejected, named with visible escapes."""
    content = make_content({"seed.state.json": seed_bytes})
    states = os.fsencode(content / "states")
    (Path(os.fsdecode(states + b"/bad\xff.state.json"))).write_bytes(seed_bytes)
    (content / "states" / "two\nlines.state.json").write_bytes(seed_bytes)
    code, err = build(content)
    assert code == 1
    assert "states/bad\\xff.state.json: input.name: file name is not valid UTF-8" in err
    assert "states/two\\x0alines.state.json: input.name: file name holds control characters" in err
    report = _report(tmp_path)
    assert report["states/bad\\xff.state.json"]["status"] == "rejected"
    assert report["states/two\\x0alines.state.json"]["status"] == "rejected"
    assert report["states/seed.state.json"]["status"] == "verified"


def test_aliases_differing_only_in_case_collide_and_neither_wins(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], build: Build, tmp_path: Path
) -> None:
    """Two verified papers whose arXiv/DOI aliases differ only in case get collision pages at both spellings."""
    key = SigningKey.from_seed(b"case", "case-key")
    lower = new_paper(key, "hep-th/9901001", title="Lower case")
    upper = new_paper(key, "HEP-TH/9901001", title="Upper case")
    content = make_content({"lower.state.json": lower, "upper.state.json": upper}, keys=[key])
    code, err = build(content)
    assert code == 0
    out = tmp_path / "out"
    for spelling in ("hep-th/9901001", "HEP-TH/9901001"):
        line = next(
            line
            for line in err.splitlines()
            if f"/doi/10.48550/arxiv.{spelling}/" in line and "warning" in line
        )
        assert "alias.collision" in line and "neither wins" in line and "differ only in case" in line
        for page in (
            out / "doi" / f"10.48550/arxiv.{spelling}" / "index.html",
            out / "arxiv" / spelling / "index.html",
        ):
            html = page.read_text(encoding="utf-8")
            assert "More than one paper claims" in html
            assert "Lower case" in html and "Upper case" in html
            assert 'http-equiv="refresh"' not in html
    collisions = json.loads((out / "aliases.json").read_text(encoding="utf-8"))["collisions"]
    collided = {c["path"]: len(c["claimed_by"]) for c in collisions}
    assert collided["doi/10.48550/arxiv.hep-th/9901001/"] == 2
    assert collided["doi/10.48550/arxiv.HEP-TH/9901001/"] == 2


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n", "json.syntax"),
        ('{"hello": "world"}', "key_id: key.field: missing"),
        ('["not", "a", "key"]', "(top level): key.type: expected a key object"),
        (
            '{"key_id": "k", "algorithm": "ed25519", "public_key_hex": "' + "00" * 31 + '"}',
            "public_key_hex: key.length: an Ed25519 public key has 32 bytes, got 31",
        ),
    ],
    ids=["pem-text", "unrelated-json", "json-list", "short-key"],
)
def test_a_key_file_that_is_not_a_key_stops_the_build(
    make_content: Callable[..., Path], build: Build, tmp_path: Path, document: str, message: str
) -> None:
    """A file in keys/ that is not an Ed25519 key object: exit 2 naming the file and the problem."""
    content = make_content()
    (content / "keys" / "junk.json").write_text(document, encoding="utf-8")
    code, err = build(content)
    assert code == 2
    assert err.startswith("error: keys/junk.json: ")
    assert message in err
    assert not (tmp_path / "out").exists()


def test_a_key_with_a_wrong_fingerprint_stops_the_build(
    make_content: Callable[..., Path], build: Build, tmp_path: Path
) -> None:
    """A key whose stated fingerprint is not its key's: exit 2 with both fingerprints."""
    key = SigningKey.from_seed(b"fp", "fp-key")
    content = make_content()
    key.write_key_file(content / "keys", fingerprint_sha256_hex="00" * 16)
    code, err = build(content)
    assert code == 2
    assert (
        f"error: keys/fp-key.json: fingerprint_sha256_hex: key.fingerprint: expected {key.fingerprint_hex} "
        f"(recomputed from the key), got {'00' * 16} (stated)"
    ) in err


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object:builtins.dict {{}}",
        "!!python/name:os.system",
    ],
)
def test_site_yaml_with_python_tags_is_refused(
    make_content: Callable[..., Path], build: Build, tmp_path: Path, tag: str
) -> None:
    """A site.yaml with a ``!!python`` tag is refused with exit 2, and nothing it names is run."""
    marker = tmp_path / "pwned"
    content = make_content(site_yaml=f"title: {tag.format(marker=marker)}\n")
    code, err = build(content)
    assert code == 2
    assert err.startswith("error: ") and "site.yaml: yaml.syntax: not valid safe YAML at line 1: " in err
    assert "could not determine a constructor for the tag" in err
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_a_key_with_non_ascii_base64_stops_the_build_cleanly(
    make_content: Callable[..., Path], build: Build, tmp_path: Path
) -> None:
    """Non-ASCII text in ``public_key_b64`` is a key.encoding error (it once raised a bare ValueError)."""
    content = make_content()
    (content / "keys" / "odd.json").write_text(
        '{"key_id": "odd", "algorithm": "ed25519", "public_key_b64": "é=="}', encoding="utf-8"
    )
    code, err = build(content)
    assert code == 2
    assert err.startswith("error: keys/odd.json: public_key_b64: key.encoding: not valid base64")


def test_key_ids_differing_only_in_case_stop_the_build(
    make_content: Callable[..., Path], build: Build, tmp_path: Path
) -> None:
    """Two trusted keys ``Twin`` and ``twin`` would publish one file on a case-insensitive host: exit 2."""
    content = make_content()
    SigningKey.from_seed(b"a", "Twin").write_key_file(content / "keys")
    SigningKey.from_seed(b"b", "twin").write_key_file(content / "keys")
    code, err = build(content)
    assert code == 2
    assert (
        "key.duplicate_id: key id 'twin' is also in keys/Twin.json (as 'Twin': ids differ only in case)"
        in err
    )


def _with_signed_integrity(make_content: Callable[..., Path], new_paper: Callable[..., bytes]) -> Path:
    """Content with the registry's real signed integrity file and a paper it is about."""
    key = SigningKey.from_seed(b"integrity", "integrity-key")
    content = make_content({"p.state.json": new_paper(key, "2604.23340")}, keys=[key])
    (content / "integrity").mkdir()
    shutil.copy(VECTORS / "registry_signed_event.integrity.json", content / "integrity" / "i.integrity.json")
    return content


def test_signed_integrity_file_is_served_on_its_paper_as_stated(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path
) -> None:
    """The registry's real integrity file is served byte for byte on its paper's page, reported
    unverifiable (its signature binds only a digest), and its findings are shown as stated."""
    content = _with_signed_integrity(make_content, new_paper)
    result = build_site(content, tmp_path / "out", jobs=1)
    assert {r.input: r.verdict.value for r in result.reports}["integrity/i.integrity.json"] == "unverifiable"
    page = next((tmp_path / "out" / "pith").glob("*/index.html"))
    text = page.read_text(encoding="utf-8")
    assert "Integrity file <code>integrity/i.integrity.json</code>" in text
    assert "so the findings below are" in text and "not signed" in text
    served = page.parent / "integrity.json"
    assert served.read_bytes() == (content / "integrity" / "i.integrity.json").read_bytes()
