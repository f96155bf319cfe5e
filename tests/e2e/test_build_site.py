"""`python -m sitegen build` end to end: a content directory mixing good and bad inputs.

One build of a mixed content tree (module fixture) is inspected from every side a
user sees: exit status, paper pages, alias pages, JSON endpoints, the index, the
verification page and the machine-readable report.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sitegen.site.urls import PAPER_FILES
from tests.conftest import ROOT, SEED_PATH, site_aliases
from tests.e2e.sitebuild import SEED_SUFFIX, build, report_entries, tamper, tree
from tests.synth import SigningKey

SEED_INPUT = "states/2607.01083.state.json"


def _suffix(state_bytes: bytes) -> str:
    return str(json.loads(state_bytes)["pith_number"]).rsplit(":", 1)[1]


def _drop_license(state: dict[str, Any]) -> None:
    state["current"]["record_created"]["payload"]["canonical_record"]["metadata"]["license"] = "CC0"


@pytest.fixture
def mixed(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> dict[str, Any]:
    """A built site from the seed, good, untrusted, tampered and unreadable states, and two pages."""
    stranger = SigningKey.generate("someone-else-2026")
    states = {
        "2607.01083.state.json": SEED_PATH.read_bytes(),
        "old/hep-lat-0305021.state.json": new_paper(
            signing_key,
            "hep-lat/0305021",
            title="Lattice <b>QCD</b> & friends",
            submitted_at="2003-05-20T00:00:00Z",
        ),
        "untrusted.state.json": new_paper(stranger, "2607.00001", title="Signed by a stranger"),
        "tampered.state.json": tamper(
            new_paper(signing_key, "2607.00002", title="Edited after signing"), _drop_license
        ),
        "broken.state.json": b'{"state_type": "pith_open_graph_state",',
        "deep/er/duplicate-key.state.json": b'{"pith_number": "a", "pith_number": "b"}',
    }
    pages = {
        "about.md": "---\ntitle: About\nslug: about\norder: 1\n---\nSee [the papers](../) and <script>x()</script>.\n",
        "bad.md": "---\ntitle: Bad\nslug: bad\ntitel: typo\n---\nbody\n",
    }
    content = make_content(states, keys=[signing_key], pages=pages)
    out = tmp_path / "site"
    proc = build(content, out)
    return {
        "proc": proc,
        "out": out,
        "states": states,
        "old": _suffix(states["old/hep-lat-0305021.state.json"]),
        "untrusted": _suffix(states["untrusted.state.json"]),
        "tampered": _suffix(states["tampered.state.json"]),
    }


def test_mixed_build_exits_1_and_names_every_bad_input(mixed: dict[str, Any]) -> None:
    """Some inputs not verified: exit 1; stderr names each bad file with its check, the summary counts them."""
    proc = mixed["proc"]
    assert proc.returncode == 1, proc.stderr
    err = proc.stderr
    assert re.search(r"^failed\s+states/tampered\.state\.json .*record\.canonical_sha256", err, re.M)
    assert re.search(r"^unverifiable\s+states/untrusted\.state\.json", err, re.M)
    assert re.search(r"^rejected\s+states/broken\.state\.json", err, re.M)
    assert "states/deep/er/duplicate-key.state.json: pith_number: json.duplicate_key" in err
    assert "error: pages/bad.md: titel: config.unknown_key: unknown key 'titel'; did you mean 'title'?" in err
    assert "summary: 2 verified, 1 failed, 1 unverifiable, 2 rejected" in err


def test_report_has_schema_counts_and_one_entry_per_input(mixed: dict[str, Any]) -> None:
    """verification-report.json: schema version, counts per verdict, a complete entry for each input that
    is not verified; every paper's verification.json has its own complete entry."""
    out = mixed["out"]
    document = json.loads((out / "verification-report.json").read_text(encoding="utf-8"))
    assert document["schema"] == "pith-sitegen/verification-report/v2"
    assert document["counts"] == {"verified": 2, "failed": 1, "unverifiable": 1, "rejected": 2}
    assert document["total"] == 6
    assert sorted(e["input"] for e in document["not_verified"]) == sorted(
        f"states/{name}"
        for name in mixed["states"]
        if name not in ("2607.01083.state.json", "old/hep-lat-0305021.state.json")
    )
    entries = report_entries(out)
    assert set(entries) == {f"states/{name}" for name in mixed["states"]}
    for entry in entries.values():
        assert {"input", "status", "pith_number", "checks", "errors"} <= set(entry)
        assert entry["status"] in ("verified", "failed", "unverifiable", "rejected")
    assert entries[SEED_INPUT]["status"] == "verified"
    assert entries[SEED_INPUT]["pith_number"] == f"pith:2026:{SEED_SUFFIX}"
    assert entries[SEED_INPUT]["errors"] == []
    tampered = entries["states/tampered.state.json"]
    assert tampered["status"] == "failed"
    failed_ids = {c["id"] for c in tampered["checks"] if c["status"] == "failed"}
    assert "record.canonical_sha256" in failed_ids
    assert any(
        "record.canonical_sha256" in e and "states/tampered.state.json" in e for e in tampered["errors"]
    )
    broken = entries["states/broken.state.json"]
    assert broken["status"] == "rejected" and broken["pith_number"] is None
    assert broken["checks"][0]["id"] == "state.parse" and broken["checks"][0]["status"] == "failed"
    assert document["errors"] and "pages/bad.md" in document["errors"][0]


def test_record_json_hashes_to_the_canonical_hash_and_the_pith_number(mixed: dict[str, Any]) -> None:
    """sha256(record.json) is the canonical hash, and its base32 is the page's Pith number suffix."""
    out = mixed["out"]
    for suffix in (SEED_SUFFIX, mixed["old"], mixed["untrusted"]):
        record = (out / "pith" / suffix / "record.json").read_bytes()
        digest = hashlib.sha256(record).digest()
        state = json.loads((out / "pith" / suffix / "state.json").read_bytes())
        assert digest.hex() == state["current"]["record_created"]["payload"]["canonical_sha256"]
        assert base64.b32encode(digest).decode()[:26] == suffix
    seed_digest = hashlib.sha256((out / "pith" / SEED_SUFFIX / "record.json").read_bytes()).hexdigest()
    assert seed_digest == "d841dd34a99acaca94f0636d5b8a4767e6a0d0546b317553de6c9d86e9291c39"


def test_paper_directory_holds_every_endpoint(mixed: dict[str, Any]) -> None:
    """Beside the page: state.json as given, and integrity, aliases, graph and verification JSON."""
    paper = mixed["out"] / "pith" / mixed["old"]
    assert sorted(p.name for p in paper.iterdir()) == sorted(PAPER_FILES)
    assert (paper / "state.json").read_bytes() == mixed["states"]["old/hep-lat-0305021.state.json"]
    verification = json.loads((paper / "verification.json").read_bytes())
    assert (
        verification["status"] == "verified"
        and verification["input"] == "states/old/hep-lat-0305021.state.json"
    )
    aliases = json.loads((paper / "aliases.json").read_bytes())
    assert {"alias_kind": "arxiv", "alias_value": "hep-lat/0305021", "check": "verified"} in aliases[
        "aliases"
    ]
    graph = json.loads((paper / "graph.json").read_bytes())
    assert graph["stated_by"] == "registry" and len(graph["graph_snapshots"]) == 1
    integrity = json.loads((paper / "integrity.json").read_bytes())
    assert (
        integrity["signed"] is False
        and integrity["integrity"]["endpoint"] == "/pith/hep-lat/0305021/integrity.json"
    )


def test_every_alias_resolves_to_a_redirect_page(mixed: dict[str, Any]) -> None:
    """Short 8/12/16, arXiv (old style, with a slash), arXiv version and DOI: each a page with canonical and plain link."""
    out, suffix = mixed["out"], mixed["old"]
    alias_dirs = [
        f"pith/{suffix[:8]}",
        f"pith/{suffix[:12]}",
        f"pith/{suffix[:16]}",
        "arxiv/hep-lat/0305021",
        "arxiv/hep-lat/0305021v1",
        "doi/10.48550/arxiv.hep-lat/0305021",
    ]
    for rel in alias_dirs:
        html = (out / rel / "index.html").read_text(encoding="utf-8")
        depth = len(rel.split("/"))
        target = "../" * depth + f"pith/{suffix}/"
        assert f'<link rel="canonical" href="{target}">' in html, rel
        assert f'<a href="{target}">' in html, rel
        assert f'url={target}"' in html, rel


def test_site_wide_aliases_map_every_alias_to_its_pith_number(mixed: dict[str, Any]) -> None:
    """The alias map lists each alias with its Pith number, the paper's verdict and its page, in the
    bin that /aliases.json's lookup rule names (the first hex digits of SHA-256 of 'kind:value')."""
    document = json.loads((mixed["out"] / "aliases.json").read_bytes())
    length = document["bin_length"]
    assert "SHA-256 of the UTF-8 bytes of 'K:V'" in document["lookup"]
    for listed in sorted((mixed["out"] / "aliases").rglob("*.json")):
        for alias in json.loads(listed.read_bytes())["aliases"]:
            key = f"{alias['alias_kind']}:{alias['alias_value']}".encode()
            digits = hashlib.sha256(key).hexdigest()[:length]
            pieces = [digits[i : i + 2] for i in range(0, length, 2)]
            assert listed.relative_to(mixed["out"]).as_posix() == f"aliases/{'/'.join(pieces)}.json"
    by_value = {(a["alias_kind"], a["alias_value"]): a for a in site_aliases(mixed["out"])}
    seed = by_value[("arxiv", "2607.01083")]
    assert seed["pith_number"] == f"pith:2026:{SEED_SUFFIX}" and seed["status"] == "verified"
    assert seed["path"] == "arxiv/2607.01083/"
    tampered = by_value[("arxiv", "2607.00002")]
    assert tampered["status"] == "failed"
    assert (
        by_value[("doi", "10.48550/arxiv.hep-lat/0305021")]["path"] == "doi/10.48550/arxiv.hep-lat/0305021/"
    )
    # the tampered paper's short aliases derive from its recomputed hash, not its stated number:
    # they fail their checks and are not listed (its arXiv, version and DOI aliases still derive)
    assert len(by_value) == 3 * 6 + 3 and document["collisions"] == []


def test_snapshot_integrity_endpoint_path_is_served(mixed: dict[str, Any]) -> None:
    """The integrity endpoint a snapshot names (/pith/<source id>/integrity.json) serves the paper's integrity.json."""
    out = mixed["out"]
    served = out / "pith" / "hep-lat" / "0305021" / "integrity.json"
    assert served.read_bytes() == (out / "pith" / mixed["old"] / "integrity.json").read_bytes()
    assert (out / "pith" / "2607.01083" / "integrity.json").is_file()


def test_verified_paper_page_shows_every_section(mixed: dict[str, Any]) -> None:
    """The seed's page: title, authors, verdict in words, each check explained, signed record, stated sections."""
    html = (mixed["out"] / "pith" / SEED_SUFFIX / "index.html").read_text(encoding="utf-8")
    assert "Staleness-Learning Rate Scaling Laws for Asynchronous RLHF" in html
    assert "verdict-box-verified" in html and "✔</span> Verified" in html
    assert f"pith:2026:{SEED_SUFFIX}" in html and "pith:3BA52NFJ" in html
    for check_id in (
        "record.canonical_sha256",
        "receipt.signature",
        "title.canon_sha256",
        "events.applied_ids",
    ):
        assert f"<code>{check_id}</code>" in html
    assert "The registry&#39;s Ed25519 signature over the 32 bytes of the canonical hash verifies" in html
    for words in ("Submitted", "Categories", "License", "Abstract (excerpt)", "Integrity findings", "Claims"):
        assert words in html
    for words in (
        "References",
        "Completeness",
        "Events",
        "author attestations: <strong>none</strong> (not attested)",
    ):
        assert words in html
    assert html.count("stated by the registry, not verified here") >= 3
    assert (
        'href="https://arxiv.org/abs/2607.01083"' in html
        and 'href="https://doi.org/10.48550/arxiv.2607.01083"' in html
    )
    assert 'href="../../arxiv/2607.01083/"' in html


def test_untrusted_input_is_escaped_on_its_page(mixed: dict[str, Any]) -> None:
    """A title with markup is shown as text, never as HTML."""
    html = (mixed["out"] / "pith" / mixed["old"] / "index.html").read_text(encoding="utf-8")
    assert "Lattice &lt;b&gt;QCD&lt;/b&gt; &amp; friends" in html
    assert "<b>QCD</b>" not in html


@pytest.mark.parametrize(
    ("key", "verdict"),
    [("tampered", "failed"), ("untrusted", "unverifiable")],
    ids=["failed", "unverifiable"],
)
def test_not_verified_paper_never_looks_verified(mixed: dict[str, Any], key: str, verdict: str) -> None:
    """A failed or unverifiable paper: its page, alias pages, index row and endpoints never say verified."""
    out, suffix = mixed["out"], mixed[key]
    page = (out / "pith" / suffix / "index.html").read_text(encoding="utf-8")
    assert f"verdict-box-{verdict}" in page and "verdict-verified" not in page
    assert "Verified</span>" not in page and "✔</span> passed" in page
    assert "Not verified:" in page
    short = out / "pith" / suffix[:8] / "index.html"
    if verdict == "failed":  # its short alias does not derive from its recomputed hash: no page
        assert not short.exists()
    else:
        redirect = short.read_text(encoding="utf-8")
        assert f"verdict-{verdict}" in redirect and "verdict-verified" not in redirect
    own = json.loads((out / "pith" / suffix / "aliases.json").read_bytes())["aliases"]
    assert "verified" not in {a["check"] for a in own}
    index = (out / "index.html").read_text(encoding="utf-8")
    row = re.search(rf'<tr class="row-(\w+)">\s*<td>[^\n]*</td>\s*<td><a href="\./pith/{suffix}/"', index)
    assert row is not None and row.group(1) == verdict
    assert json.loads((out / "pith" / suffix / "verification.json").read_bytes())["status"] == verdict
    assert {a["status"] for a in site_aliases(out) if a["pith_number"].endswith(suffix)} == {verdict}


def test_verification_page_lists_every_input_not_verified(mixed: dict[str, Any]) -> None:
    """/verification/ names each non-verified input with its file, the check that did not pass and why."""
    html = (mixed["out"] / "verification" / "index.html").read_text(encoding="utf-8")
    rows = dict(re.findall(r"<tr class=\"report-\w+\">\s*<td><code>([^<]+)</code>(.*?)</tr>", html, re.S))
    assert set(rows) == {
        "states/broken.state.json",
        "states/deep/er/duplicate-key.state.json",
        "states/tampered.state.json",
        "states/untrusted.state.json",
    }
    assert "<code>record.canonical_sha256</code>" in rows["states/tampered.state.json"]
    assert "expected" in rows["states/tampered.state.json"]
    assert "<code>receipt.key_fingerprint</code>" in rows["states/untrusted.state.json"]
    assert (
        "not in this site" in rows["states/untrusted.state.json"]
        or "trust" in rows["states/untrusted.state.json"]
    )
    assert "<code>state.parse</code>" in rows["states/broken.state.json"]
    assert "json.duplicate_key" in rows["states/deep/er/duplicate-key.state.json"]
    assert "pages/bad.md: titel: config.unknown_key" in html


def test_index_lists_every_paper_with_verdict_and_metadata(mixed: dict[str, Any]) -> None:
    """The index: each paper page linked with its verdict, title, authors, categories and date."""
    html = (mixed["out"] / "index.html").read_text(encoding="utf-8")
    for key in ("old", "untrusted", "tampered"):
        assert f'href="./pith/{mixed[key]}/"' in html
    assert f'href="./pith/{SEED_SUFFIX}/"' in html
    assert "Staleness-Learning Rate Scaling Laws" in html and "Ada Lovelace, Alan Turing" in html
    assert "cs.LG" in html and '<time datetime="2003-05-20T00:00:00Z">2003-05-20</time>' in html
    assert "4 papers:" in html and "2 more inputs could not be read at all" in html


def test_markdown_pages_render_without_raw_html(mixed: dict[str, Any]) -> None:
    """A Markdown page is rendered with raw HTML escaped; a page with a bad key is not published."""
    out = mixed["out"]
    html = (out / "about" / "index.html").read_text(encoding="utf-8")
    assert '<a href="../">the papers</a>' in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html and "<script>x()" not in html
    assert not (out / "bad").exists()
    assert 'href="../about/"' in (out / "verification" / "index.html").read_text(encoding="utf-8")


def test_404_and_assets_make_no_external_requests(mixed: dict[str, Any]) -> None:
    """404.html exists with links under the base path; no page or stylesheet loads anything from another host."""
    out = mixed["out"]
    not_found = (out / "404.html").read_text(encoding="utf-8")
    assert 'href="/mirror/assets/site.css"' in not_found and 'href="/mirror/"' in not_found
    for name, data in tree(out).items():
        if name.endswith(".css"):
            assert (
                b"@import" not in data and b"url(http" not in data and b"//" not in data.replace(b"/*", b"")
            )
        if name.endswith(".html"):
            text = data.decode("utf-8")
            loads = re.findall(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="([^"]*)"', text)
            external = [u for u in loads if "://" in u or u.startswith("//")]
            canonical_ok = [
                u for u in external if 'rel="canonical"' in text and u.startswith("https://pith.science/")
            ]
            assert external == canonical_ok, (name, external)


def test_two_papers_claiming_one_alias_are_both_shown_and_neither_wins(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """Versions 1 and 2 of one arXiv id: the shared alias pages list both, the report says so, no integrity path."""
    first = new_paper(signing_key, "2607.05555", title="Version one", version=1)
    second = new_paper(signing_key, "2607.05555", title="Version two", version=2)
    content = make_content({"v1.state.json": first, "v2.state.json": second}, keys=[signing_key])
    out = tmp_path / "site"
    proc = build(content, out)
    assert proc.returncode == 0, proc.stderr
    assert "/arxiv/2607.05555/: alias.collision: claimed by states/v1.state.json" in proc.stderr
    for rel in ("arxiv/2607.05555", "doi/10.48550/arxiv.2607.05555"):
        html = (out / rel / "index.html").read_text(encoding="utf-8")
        assert "More than one paper claims" in html
        assert "Version one" in html and "Version two" in html
        assert 'http-equiv="refresh"' not in html
    redirect = (out / "arxiv" / "2607.05555v1" / "index.html").read_text(encoding="utf-8")
    assert "The arxiv_version alias <code>2607.05555v1</code>" in redirect
    assert "Version one" not in redirect  # a redirect names the Pith number and the alias only
    document = json.loads((out / "aliases.json").read_bytes())
    paths = {c["path"] for c in document["collisions"]}
    assert paths == {"arxiv/2607.05555/", "doi/10.48550/arxiv.2607.05555/"}
    shared = [a for a in site_aliases(out) if a["alias_value"] == "2607.05555"]
    assert len(shared) == 2 and all(a["path"] is None for a in shared)
    assert not (out / "pith" / "2607.05555").exists()
    assert "integrity.collision" in proc.stderr


def test_all_verified_content_exits_0(make_content: Callable[..., Path], tmp_path: Path) -> None:
    """Only the real seed with the real key: exit 0 and no warnings."""
    content = make_content(
        {"2607.01083.state.json": SEED_PATH.read_bytes()},
        site_yaml="title: Test mirror\nbase_url: https://mirror.example/mirror/\n",  # a host: no feed warning
    )
    proc = build(content, tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    assert "summary: 1 verified, 0 failed, 0 unverifiable, 0 rejected; 0 errors, 0 warnings" in proc.stderr


@pytest.mark.parametrize(
    ("site_yaml", "message"),
    [
        (
            "title: Mirror\ntitel: typo\n",
            "site.yaml: titel: config.unknown_key: unknown key 'titel'; did you mean 'title'?",
        ),
        ("base_url: mirror\n", "site.yaml: base_url: config.value"),
        ("papers_per_page: many\n", "site.yaml: papers_per_page: config.type"),
        ("title: !!python/object/apply:os.system ['true']\n", "site.yaml: yaml.syntax"),
    ],
    ids=["unknown-key", "bad-base-url", "wrong-type", "unsafe-tag"],
)
def test_bad_site_yaml_exits_2_naming_file_and_key(
    make_content: Callable[..., Path], tmp_path: Path, site_yaml: str, message: str
) -> None:
    """A bad site.yaml stops the build before anything is written: exit 2, the file and key named."""
    content = make_content({"2607.01083.state.json": SEED_PATH.read_bytes()}, site_yaml=site_yaml)
    out = tmp_path / "site"
    proc = build(content, out)
    assert proc.returncode == 2
    assert f"error: {content}/{message}" in proc.stderr
    assert not out.exists()


def test_missing_content_directory_exits_2(tmp_path: Path) -> None:
    """A content directory that does not exist: exit 2 and a message naming it."""
    proc = build(tmp_path / "nowhere", tmp_path / "site")
    assert proc.returncode == 2
    assert f"error: {tmp_path / 'nowhere'}: input.read: content directory does not exist" in proc.stderr


def test_output_directory_that_is_not_a_site_is_refused(
    make_content: Callable[..., Path], tmp_path: Path
) -> None:
    """--out pointing at a directory of other files (or at the content itself): exit 2, nothing touched."""
    content = make_content({"2607.01083.state.json": SEED_PATH.read_bytes()})
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete", encoding="utf-8")
    proc = build(content, precious)
    assert proc.returncode == 2
    assert "is not a site built by pith-sitegen" in proc.stderr
    assert tree(precious) == {"thesis.tex": b"do not delete"}
    for out in (content, tmp_path, content / "states" / "site"):
        proc = build(content, out)
        assert proc.returncode == 2 and "may not be, contain or sit inside" in proc.stderr
    assert (content / "states" / "2607.01083.state.json").read_bytes() == SEED_PATH.read_bytes()


def test_shipped_content_builds_with_exit_0_and_the_seed_verified(tmp_path: Path) -> None:
    """The README's first command (make site: build content/ into _site/) exits 0 and the seed's page says verified."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_command = re.search(r"```sh\n(.*?)\n", readme)
    assert first_command is not None and first_command.group(1).split("#")[0].strip() == "make site"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\t$(BIN)/python -m sitegen build --content $(CONTENT) --out $(OUT)\n" in makefile
    assert re.search(r"^CONTENT \?= content$", makefile, re.M) and re.search(
        r"^OUT +\?= _site$", makefile, re.M
    )
    out = tmp_path / "_site"
    proc = build(ROOT / "content", out)
    assert proc.returncode == 0, proc.stderr
    page = (out / "pith" / SEED_SUFFIX / "index.html").read_text(encoding="utf-8")
    assert "verdict-box-verified" in page and "✔</span> Verified" in page
    assert (out / "about" / "index.html").is_file() and (out / "verify-by-hand" / "index.html").is_file()


def test_verify_by_hand_page_carries_the_seeds_real_values() -> None:
    """The shipped how-to page quotes the seed's real record bytes, hash, Pith number, signature and key."""
    page = (ROOT / "content" / "pages" / "verify-by-hand.md").read_text(encoding="utf-8")
    seed = json.loads(SEED_PATH.read_bytes())
    payload = seed["current"]["record_created"]["payload"]
    record = json.dumps(
        payload["canonical_record"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    digest = hashlib.sha256(record.encode("utf-8")).digest()
    title = seed["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]["paper"]["title"]
    key = json.loads((ROOT / "content" / "keys" / "pith-v1-2026-05.json").read_bytes())
    for value in (
        record,
        digest.hex(),
        seed["pith_number"],
        base64.b32encode(digest).decode()[:26],
        payload["receipt"]["signature_b64"],
        key["public_key_b64"],
        key["fingerprint_sha256_hex"],
        title,
        hashlib.sha256(title.lower().encode("utf-8")).hexdigest(),
    ):
        assert value in page


def test_relative_content_and_output_paths_work_from_any_directory(
    make_content: Callable[..., Path], tmp_path: Path
) -> None:
    """--content and --out relative to the working directory, output in a folder that does not exist yet."""
    make_content({"2607.01083.state.json": SEED_PATH.read_bytes()}, name="my content")
    proc = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--content", "my content", "--out", "public/site v1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "public" / "site v1" / "pith" / SEED_SUFFIX / "index.html").is_file()
