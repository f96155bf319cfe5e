"""The hostile corpus builds end to end: every case gets its verdict and nothing escapes the output."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tests.e2e.sitebuild import build_command, report_entries
from tests.hostile.make_hostile import HERE, add_filesystem_cases, write_corpus


def _tree(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (files by SHA-256, symlinks by target, others by kind)."""
    entries = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            entries[rel] = f"symlink -> {path.readlink()}"
        elif path.is_file():
            entries[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            entries[rel] = "dir" if path.is_dir() else "other"
    return entries


def test_committed_corpus_is_what_the_generator_writes(tmp_path: Path) -> None:
    """Regenerating the corpus changes no committed file (re-run ``make hostile`` after editing the script)."""
    write_corpus(tmp_path)
    committed = {
        k: v for k, v in _tree(HERE).items() if k.startswith(("content", "expected.json", "README.md"))
    }
    assert _tree(tmp_path) == committed


def test_hostile_corpus_builds_with_every_expected_verdict_and_nothing_outside_the_output(
    tmp_path: Path,
) -> None:
    """`python -m sitegen build` on the corpus: exit 1, each case's verdict, no write outside the output dir."""
    content = tmp_path / "content"
    shutil.copytree(HERE / "content", content, symlinks=True)
    add_filesystem_cases(content, tmp_path / "outside")
    out = tmp_path / "site" / "public"
    out.parent.mkdir()
    before = _tree(tmp_path)
    proc = subprocess.run(
        build_command(content, out),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    after = _tree(tmp_path)
    new = {k for k in after if k not in before}
    beside = {"site/public", "site/.public.lock", "site/.public.cache"}  # lock and incremental cache
    assert {k for k in new if not k.startswith(("site/public/", "site/.public.cache/"))} == beside
    assert {k: v for k, v in after.items() if k in before} == before, (
        "an existing file outside the output changed"
    )
    assert not any(v.startswith("symlink") for k, v in after.items() if k.startswith("site/public/"))

    expected = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    report = json.loads((out / "verification-report.json").read_text(encoding="utf-8"))
    verdicts = {name: entry["status"] for name, entry in report_entries(out).items()}
    assert verdicts == {name: verdict for name, verdict in expected.items() if verdict != "warning"}
    for name in (name for name, verdict in expected.items() if verdict == "warning"):
        assert any(w.startswith(f"{name}: ") for w in report["warnings"]), name
    warnings = "\n".join(report["warnings"])
    assert "alias.collision" in warnings and "differ only in case" in warnings
    assert "integrity.path" in warnings
    assert not (out / "outside").exists() and "secret" not in (out / "index.html").read_text(encoding="utf-8")
