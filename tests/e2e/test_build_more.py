"""Signed integrity files beside the states, two inputs with one Pith number, SHA256SUMS."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from sitegen.pith.canonical import canonical_bytes
from tests.conftest import SEED_PATH
from tests.e2e.sitebuild import SEED_SUFFIX, assert_manifest_lists_the_tree, build, report_entries
from tests.synth import SigningKey

FINDING = {
    "detector": "doi_compliance",
    "finding_type": "recoverable_identifier",
    "severity": "advisory",
    "verdict_class": "incontrovertible",
    "note": "DOI in the bibliography is split <by> a line break.",
    "detected_doi": "10.1007/978-1-84800-044-5_11",
    "detected_arxiv_id": None,
    "ref_index": 19,
    "audited_at": "2026-05-19T23:15:25Z",
}


def _integrity_file(key: SigningKey, arxiv_id: str, *, break_signature: bool = False) -> bytes:
    """An integrity file in the registry's shape whose one event ``key`` signs over its payload digest."""
    payload = {"arxiv_id": arxiv_id, "detector": "doi_compliance", "note": FINDING["note"]}
    digest = hashlib.sha256(canonical_bytes(payload)).digest()
    signature = key.sign_b64(digest)
    if break_signature:
        signature = key.sign_b64(hashlib.sha256(b"something else").digest())
    document = {
        "schema": "https://pith.science/schemas/pith-integrity/v1.json",
        "pith_number": arxiv_id,
        "arxiv_id": arxiv_id,
        "integrity": {
            "available": True,
            "endpoint": f"/pith/{arxiv_id}/integrity.json",
            "summary": {"critical": 0, "advisory": 1, "informational": 0, "by_detector": {}},
            "clean": False,
            "detectors_run": [{"name": "doi_compliance", "version": "1.0.0", "status": "completed"}],
            "findings": [FINDING],
            "snapshot_sha256": "0" * 64,
        },
        "events": [
            {
                "event_id": 3600,
                "event_type": "pith.integrity.v1",
                "payload_sha256": digest.hex(),
                "signature_b64": signature,
                "signing_key_id": key.key_id,
                "created_at": "2026-05-19T23:17:27Z",
                "payload": payload,
            }
        ],
    }
    return json.dumps(document).encode("utf-8")


def test_signed_integrity_files_are_verified_and_shown_beside_their_paper(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """An integrity file whose payloads recompute to their signed digests is verified and served as the
    paper's integrity.json, its findings still labelled as stated; a badly signed one is failed and
    shown nowhere."""
    papers = {
        "old.state.json": new_paper(signing_key, "hep-lat/0305021", findings=[FINDING]),
        "other.state.json": new_paper(signing_key, "2607.00003", title="Other"),
    }
    content = make_content(papers, keys=[signing_key])
    (content / "integrity").mkdir()
    good = _integrity_file(signing_key, "hep-lat/0305021")
    (content / "integrity" / "hep-lat-0305021.json").write_bytes(good)
    (content / "integrity" / "2607.00003.json").write_bytes(
        _integrity_file(signing_key, "2607.00003", break_signature=True)
    )
    out = tmp_path / "site"
    proc = build(content, out, "--json")
    assert proc.returncode == 1, proc.stderr
    entries = {entry["input"]: entry for entry in json.loads(proc.stdout)["inputs"]}
    assert entries["integrity/hep-lat-0305021.json"]["status"] == "verified"
    bad = entries["integrity/2607.00003.json"]
    assert bad["status"] == "failed" and bad["checks"][0]["id"] == "integrity.signatures"
    old = json.loads(papers["old.state.json"])["pith_number"].rsplit(":", 1)[1]
    other = json.loads(papers["other.state.json"])["pith_number"].rsplit(":", 1)[1]
    assert (out / "pith" / old / "integrity.json").read_bytes() == good
    assert (out / "pith" / "hep-lat" / "0305021" / "integrity.json").read_bytes() == good
    assert json.loads((out / "pith" / other / "integrity.json").read_bytes())["signed"] is False
    page = (out / "pith" / old / "index.html").read_text(encoding="utf-8")
    assert "Integrity file <code>integrity/hep-lat-0305021.json</code>" in page
    assert "payloads are bound to the registry's signature" in page
    assert 'the file\'s own summary of them, <span class="stated">stated by the registry' in page
    assert "DOI in the bibliography is split &lt;by&gt; a line break." in page and "reference 19" in page
    assert "Integrity file <code>" not in (out / "pith" / other / "index.html").read_text(encoding="utf-8")
    verification = (out / "verification" / "index.html").read_text(encoding="utf-8")
    assert "<code>integrity/2607.00003.json</code>" in verification
    assert_manifest_lists_the_tree(out)


def test_paper_page_shows_findings_claims_references_and_verdict_fields(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """Snapshot findings, claims and the references sample are listed, each labelled as stated by the registry."""
    state = new_paper(
        signing_key,
        "2607.00004",
        findings=[FINDING],
        claims=[{"text": "Claim one holds."}, {"text": "Claim two <b>too</b>."}],
        references=[{"text": "A. Author, Some paper", "doi": "10.1/abc", "arxiv_id": "1234.5678"}],
    )
    out = tmp_path / "site"
    assert build(make_content({"p.state.json": state}, keys=[signing_key]), out).returncode == 0
    suffix = json.loads(state)["pith_number"].rsplit(":", 1)[1]
    page = (out / "pith" / suffix / "index.html").read_text(encoding="utf-8")
    assert (
        'From the graph snapshot: <span class="stated">stated by the registry, not verified here</span>'
        in page
    )
    assert "Summary: 0 critical, 1 advisory, 0 informational; not clean." in page
    assert "<li>Claim one holds.</li>" in page and "Claim two &lt;b&gt;too&lt;/b&gt;." in page
    assert "A. Author, Some paper · DOI <code>10.1/abc</code> · arXiv <code>1234.5678</code>" in page


def test_pages_are_ordered_in_the_navigation_and_bad_ones_are_errors(
    make_content: Callable[..., Path], tmp_path: Path
) -> None:
    """Pages appear in the navigation by order; a reserved or repeated slug or non-UTF-8 text is an error (exit 1)."""
    pages = {
        "b.md": "---\ntitle: Second\nslug: second\norder: 2\n---\nTwo.\n",
        "a.md": "---\ntitle: First\nslug: first\norder: 1\n---\nOne.\n",
        "reserved.md": "---\ntitle: Papers\nslug: pith\n---\nNo.\n",
        "again.md": "---\ntitle: First again\nslug: first\norder: 3\n---\nNo.\n",
    }
    content = make_content({"seed.state.json": SEED_PATH.read_bytes()}, pages=pages)
    (content / "pages" / "latin1.md").write_bytes("---\ntitle: Caf\xe9\nslug: cafe\n---\n".encode("latin-1"))
    out = tmp_path / "site"
    proc = build(content, out)
    assert proc.returncode == 1
    assert (
        "error: pages/reserved.md: slug: page.slug: 'pith' is reserved or used by another page" in proc.stderr
    )
    assert (
        "error: pages/again.md: slug: page.slug: 'first' is reserved or used by another page" in proc.stderr
    )
    assert "error: pages/latin1.md: page.read: not UTF-8: invalid byte at offset" in proc.stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.index('href="./first/">First<') < index.index('href="./second/">Second<')
    assert "One." in (out / "first" / "index.html").read_text(encoding="utf-8")
    assert not (out / "cafe").exists()
    assert (out / "pith" / SEED_SUFFIX / "index.html").is_file()


def test_states_are_found_in_nested_folders_and_hidden_files_are_skipped(
    make_content: Callable[..., Path], tmp_path: Path
) -> None:
    """states/**/*.json at any depth are inputs; hidden files and folders (editor backups, .git) are not."""
    seed = SEED_PATH.read_bytes()
    content = make_content(
        {"a/b/c/seed.state.json": seed, ".#seed.state.json": b"junk", ".git/objects/x.json": b"junk"}
    )
    out = tmp_path / "site"
    assert build(content, out).returncode == 0
    assert set(report_entries(out)) == {"states/a/b/c/seed.state.json"}
