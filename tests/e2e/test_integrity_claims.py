"""Integrity files on built sites: a signature over a stated digest is reported as what it is.

Each test builds a site from content it makes: states signed with test keys, and the registry's
real signed integrity event (``tests/vectors/registry_signed_event.integrity.json``, event 3600 of
2604.23340), copied into files that say other things.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sitegen.build.pipeline import build_site
from tests.e2e.sitebuild import report_entries
from tests.synth import SigningKey

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SOURCE = "2604.23340"
SNAPSHOT_FINDING = {
    "detector": "doi_compliance",
    "finding_type": "recoverable_identifier",
    "severity": "advisory",
    "verdict_class": "incontrovertible",
    "note": "The snapshot's own finding",
}


def _real_file() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / "registry_signed_event.integrity.json").read_bytes())
    return document


def _forged(document: dict[str, Any]) -> dict[str, Any]:
    """The real file with three invented critical findings; its real signed event kept unchanged."""
    forged = copy.deepcopy(document)
    invented = [
        {
            "detector": "invented",
            "finding_type": "fabrication",
            "severity": "critical",
            "verdict_class": "incontrovertible",
            "note": f"Invented finding {n}",
        }
        for n in range(3)
    ]
    forged["integrity"]["findings"] = invented
    forged["integrity"]["clean"] = False
    forged["integrity"]["summary"] = {"critical": 3, "advisory": 0, "informational": 0, "by_detector": {}}
    return forged


def _content(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    files: dict[str, dict[str, Any]],
) -> Path:
    key = SigningKey.from_seed(b"integrity", "integrity-key")
    state = new_paper(key, SOURCE, findings=[SNAPSHOT_FINDING])
    content = make_content({"p.state.json": state}, keys=[key])
    (content / "integrity").mkdir()
    for name, document in files.items():
        (content / "integrity" / name).write_text(json.dumps(document), encoding="utf-8")
    return content


def _page(out: Path) -> tuple[Path, str]:
    page = next((out / "pith").glob("*/index.html"))
    return page.parent, page.read_text(encoding="utf-8")


def test_forged_findings_with_a_real_signed_event_are_never_called_signed(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path
) -> None:
    """Invented critical findings beside a real registry-signed event: the file is unverifiable, the
    page calls its findings stated by the registry, and nothing says they carry a signature."""
    content = _content(make_content, new_paper, {"forged.integrity.json": _forged(_real_file())})
    result = build_site(content, tmp_path / "out", jobs=1)
    verdicts = {r.input: r.verdict.value for r in result.reports}
    assert verdicts["integrity/forged.integrity.json"] == "unverifiable"
    assert verdicts["states/p.state.json"] == "verified"
    entry = report_entries(tmp_path / "out")["integrity/forged.integrity.json"]
    checks = {c["id"]: c["status"] for c in entry["checks"]}
    assert checks["integrity.signatures"] == "verified"  # the registry did sign that digest
    assert checks["integrity.payload_sha256"] == "not_checkable"
    directory, page = _page(tmp_path / "out")
    assert "Invented finding 0" in page
    assert "carry the registry&#39;s verified signature" not in page and "verified signature" not in page
    assert "bind only the digests, not the findings" in page
    assert 'so the findings below are <span class="stated">stated by the registry' in page
    assert (directory / "integrity.json").read_bytes() == (
        content / "integrity" / "forged.integrity.json"
    ).read_bytes()


def test_an_event_naming_another_paper_fails_and_is_shown_beside_no_paper(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path
) -> None:
    """A signed event whose payload names another paper than the file: failed, not on the page."""
    document = _forged(_real_file())
    document["events"][0]["payload"] = {"arxiv_id": "2605.06340", "severity": "critical"}
    content = _content(make_content, new_paper, {"copied.integrity.json": document})
    result = build_site(content, tmp_path / "out", jobs=1)
    report = next(r for r in result.reports if r.input == "integrity/copied.integrity.json")
    assert report.verdict.value == "failed"
    assert [c.id for c in report.checks] == ["integrity.event_subject"]
    _, page = _page(tmp_path / "out")
    assert "Invented finding" not in page
    assert "copied.integrity.json" not in page
    assert "The snapshot&#39;s own finding" in page


def test_a_second_empty_file_hides_neither_the_real_findings_nor_the_snapshots(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path
) -> None:
    """The real file and an empty one for one paper: both are listed, with the snapshot's own
    findings; the warning names both files; integrity.json is not either of them."""
    empty = _real_file()
    empty["integrity"].update(findings=[], clean=True)
    empty["integrity"]["summary"] = {"critical": 0, "advisory": 0, "informational": 0, "by_detector": {}}
    content = _content(make_content, new_paper, {"a.integrity.json": _real_file(), "b.integrity.json": empty})
    result = build_site(content, tmp_path / "out", jobs=1)
    warning = next(w for w in result.warnings if "integrity.several" in w)
    assert "integrity/a.integrity.json" in warning and "integrity/b.integrity.json" in warning
    directory, page = _page(tmp_path / "out")
    assert "Integrity file <code>integrity/a.integrity.json</code>" in page
    assert "Integrity file <code>integrity/b.integrity.json</code>" in page
    assert "The snapshot&#39;s own finding" in page
    assert "DOI in the printed bibliography is fragmented" in page  # the real file's finding
    served = json.loads((directory / "integrity.json").read_bytes())
    assert served["stated_by"] == "registry" and served["signed"] is False


def test_integrity_files_are_read_once_per_build(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path, monkeypatch: Any
) -> None:
    """Workers never read an integrity file: the bytes shown are the bytes the build verified."""
    from sitegen.build import paper_job, pipeline

    content = _content(make_content, new_paper, {"i.integrity.json": _real_file()})
    reads: list[str] = []
    real = pipeline.read_input

    def counting(root: Path, rel: Any, limits: Any) -> bytes:
        reads.append(str(rel))
        return real(root, rel, limits)

    monkeypatch.setattr(pipeline, "read_input", counting)
    monkeypatch.setattr(paper_job, "read_input", counting)
    build_site(content, tmp_path / "out", jobs=1, use_cache=False)
    assert reads.count("integrity/i.integrity.json") == 1
