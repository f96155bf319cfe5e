"""Helpers for tests that run ``python -m sitegen build`` as a real subprocess and compare site trees."""

from __future__ import annotations

import difflib
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sitegen.pith.numbers import is_suffix
from sitegen.site.manifest_bins import is_bin
from tests.conftest import ROOT
from tests.synth import SigningKey, dump_state, restate_hash

__all__ = [
    "SEED_SUFFIX",
    "build",
    "build_command",
    "cli_command",
    "file_hashes",
    "first_difference",
    "fixed_key",
    "report_entries",
    "tamper",
    "tree",
]


def cli_command(content: Path, out: Path, *args: str) -> list[str]:
    """The command line of ``python -m sitegen build`` for ``content`` into ``out``, plus ``args``."""
    return [sys.executable, "-m", "sitegen", "build", "--content", str(content), "--out", str(out), *args]


def build_command(content: Path, out: Path) -> list[str]:
    """The command line of a single-process build of ``content`` into ``out``."""
    return cli_command(content, out, "--jobs", "1")


def file_hashes(site: Path) -> dict[str, str]:
    """Every file under ``site`` with its SHA-256: equal results mean an untouched tree."""
    return {name: hashlib.sha256(data).hexdigest() for name, data in tree(site).items()}


SEED_SUFFIX = "3BA52NFJTLFMVFHQMNWVXCSHM7"
"""The real seed's Pith number suffix: its page is ``pith/<SEED_SUFFIX>/``."""


def build(content: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sitegen build`` as a user would (default worker count); never raises on a non-zero exit."""
    return subprocess.run(
        cli_command(content, out, *args), capture_output=True, text=True, cwd=ROOT, check=False, timeout=120
    )


def manifest_digests(site: Path) -> dict[str, str]:
    """Every file ``SHA256SUMS`` lists, through its bins, with the listed SHA-256; a path listed twice fails."""
    listed: dict[str, str] = {}
    top = (site / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    for line in top:
        listed[line[66:]] = line[:64]
        assert is_bin(line[66:]), f"SHA256SUMS lists {line[66:]}, not a bin"
        for entry in (site / line[66:]).read_text(encoding="utf-8").splitlines():
            assert entry[66:] not in listed, f"{entry[66:]} is listed twice"
            listed[entry[66:]] = entry[:64]
    return listed


def assert_manifest_lists_the_tree(site: Path) -> None:
    """``SHA256SUMS`` and its bins list every other file exactly once, with its real digest, and each
    paper's own files in the bin of its suffix."""
    files = tree(site)
    del files["SHA256SUMS"]
    files.pop("SHA256SUMS.sig", None)
    assert manifest_digests(site) == {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    for line in (site / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        for entry in (site / line[66:]).read_text(encoding="utf-8").splitlines():
            parts = entry[66:].split("/")
            if parts[0] == "pith" and is_suffix(parts[1]):
                bin_prefix = line[66:].removeprefix("sums/pith-").removesuffix(".sha256")
                assert parts[1].startswith(bin_prefix) and bin_prefix, (
                    f"{entry[66:]} is listed in {line[66:]}"
                )


def reseal(site: Path, *added: str) -> None:
    """Rewrite the bins and ``SHA256SUMS`` to the files' current bytes, listing ``added`` paths too
    (in the site-wide bin), as a tamperer who controls the host would."""

    def lines(paths: list[str]) -> str:
        return "".join(f"{hashlib.sha256((site / p).read_bytes()).hexdigest()}  {p}\n" for p in paths)

    sums = site / "SHA256SUMS"
    bins = [line[66:] for line in sums.read_text(encoding="utf-8").splitlines()]
    for name in bins:
        paths = [line[66:] for line in (site / name).read_text(encoding="utf-8").splitlines()]
        (site / name).write_text(
            lines(paths + (list(added) if name == "sums/site.sha256" else [])), encoding="utf-8"
        )
    sums.write_text(lines(bins), encoding="utf-8")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its ``/``-separated relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def report_entries(out: Path) -> dict[str, dict[str, Any]]:
    """Every input's report entry a visitor can read, by input path: the site's
    ``verification-report.json`` lists those not verified, each paper's ``verification.json`` its own."""
    document = json.loads((out / "verification-report.json").read_text(encoding="utf-8"))
    entries = {entry["input"]: entry for entry in document["not_verified"]}
    for path in sorted((out / "pith").glob("*/verification.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        entries.setdefault(entry["input"], entry)
    return entries


def tamper(state_bytes: bytes, edit: Any) -> bytes:
    """A state edited by ``edit(state)`` with its state hash recomputed, as a careful tamperer would."""
    state = json.loads(state_bytes)
    edit(state)
    return dump_state(restate_hash(state))


def first_difference(expected: dict[str, bytes], actual: dict[str, bytes]) -> str | None:
    """A readable account of how two trees differ (missing, extra, first differing file), or None."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    lines = []
    if missing:
        lines.append(f"missing files: {missing}")
    if extra:
        lines.append(f"unexpected files: {extra}")
    for name in sorted(set(expected) & set(actual)):
        if expected[name] != actual[name]:
            lines.append(f"first differing file: {name}")
            try:
                old = expected[name].decode("utf-8").splitlines()
                new = actual[name].decode("utf-8").splitlines()
            except UnicodeDecodeError:
                lines.append(f"binary: {len(expected[name])} bytes expected, {len(actual[name])} bytes built")
            else:
                diff = difflib.unified_diff(old, new, f"expected/{name}", f"built/{name}", lineterm="", n=2)
                lines.extend(list(diff)[:60])
            break
    return "\n".join(lines) if lines else None


def fixed_key(name: str) -> SigningKey:
    """A repeatable Ed25519 key, so signed test inputs are the same bytes on every run."""
    return SigningKey.from_seed(f"pith-sitegen test key {name}".encode(), name)
