"""One claim policy: a stranger's input never takes the real seed's page, data files or redirects.

Each test builds the real seed beside inputs the test makes (copies re-signed with a key
the mirror does not trust, failed copies, duplicates, alias and endpoint squats, inputs
whose paths would need a directory where a page has a file) and asserts what a visitor
gets: the seed's page, data files and redirects byte for byte as a build of the seed
alone serves them, the exit status, and a warning that names both files.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED_PATH
from tests.e2e.sitebuild import (
    SEED_SUFFIX,
    assert_manifest_lists_the_tree,
    build,
    fixed_key,
    report_entries,
    tamper,
    tree,
)
from tests.synth import SigningKey, dump_state, resign_state

SEED_NAME = "states/seed.state.json"
PAPER_ROOTS = ("pith/", "arxiv/", "doi/")
"""Where a paper's own files and its redirects live (everything else is site-wide)."""
STRANGER = fixed_key("a-stranger")
"""A key the mirror does not trust."""


@pytest.fixture
def seed_alone(make_content: Callable[..., Path], tmp_path: Path) -> dict[str, bytes]:
    """The seed's page, data files, integrity endpoint and redirects from a build of the seed alone."""
    content = make_content({"seed.state.json": SEED_PATH.read_bytes()}, name="alone")
    out = tmp_path / "alone-site"
    assert build(content, out).returncode == 0
    return {rel: data for rel, data in tree(out).items() if rel.startswith(PAPER_ROOTS)}


@dataclass(frozen=True)
class Built:
    """A build of the real seed beside other inputs."""

    content: Path
    out: Path
    proc: subprocess.CompletedProcess[str]


@pytest.fixture
def beside_seed(make_content: Callable[..., Path], tmp_path: Path) -> Callable[..., Built]:
    """Build the real seed (``seed.state.json``) beside ``others``, trusting ``keys`` too."""

    def run(others: dict[str, bytes], keys: Sequence[SigningKey] = ()) -> Built:
        content = make_content({"seed.state.json": SEED_PATH.read_bytes(), **others}, keys=list(keys))
        out = tmp_path / "site"
        return Built(content=content, out=out, proc=build(content, out))

    return run


def _assert_seed_served(
    out: Path, seed_alone: dict[str, bytes], *, except_under: tuple[str, ...] = ()
) -> None:
    """Every file the seed alone has under the paper roots is served with the same bytes."""
    built = tree(out)
    for rel, data in seed_alone.items():
        if rel.startswith(except_under):
            continue
        assert built.get(rel) == data, f"{rel} is not the seed's"
    assert report_entries(out)[SEED_NAME]["status"] == "verified"
    assert f'href="./pith/{SEED_SUFFIX}/"' in (out / "index.html").read_text(encoding="utf-8")


def _seed() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SEED_PATH.read_bytes())
    return loaded


def _retitle(state: dict[str, Any]) -> None:
    state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]["paper"]["title"] = "A new title"


def _untrusted_copy() -> bytes:
    return dump_state(resign_state(_seed(), STRANGER))


def _failed_copy() -> bytes:
    return tamper(SEED_PATH.read_bytes(), _retitle)


@pytest.mark.parametrize(
    ("hostile", "verdict"),
    [(_untrusted_copy, "unverifiable"), (_failed_copy, "failed")],
    ids=["re-signed-by-a-stranger", "failed-copy"],
)
def test_a_copy_that_is_not_verified_gets_nothing_at_the_seeds_paths(
    hostile: Callable[[], bytes],
    verdict: str,
    beside_seed: Callable[..., Built],
    seed_alone: dict[str, bytes],
) -> None:
    """A copy of the seed that does not verify keeps its report entry and /verification/ line, and
    the seed keeps its page, data files and redirects; the warning names both files; exit 1."""
    built = beside_seed({"copy.state.json": hostile()})
    out, proc = built.out, built.proc
    assert proc.returncode == 1, proc.stderr
    _assert_seed_served(out, seed_alone)
    assert (
        f"/pith/{SEED_SUFFIX}/: claim.lost: states/copy.state.json (pith:2026:{SEED_SUFFIX}, {verdict}) "
        f"claims the path of {SEED_NAME} (pith:2026:{SEED_SUFFIX}, verified)"
    ) in proc.stderr
    assert report_entries(out)["states/copy.state.json"]["status"] == verdict
    assert "states/copy.state.json" in (out / "verification" / "index.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count(f"pith/{SEED_SUFFIX}/") == 1, "the copy is listed as a second paper"
    assert not (out / ".held").exists()
    assert_manifest_lists_the_tree(out)


def test_a_byte_identical_duplicate_is_one_paper(
    beside_seed: Callable[..., Built], seed_alone: dict[str, bytes], tmp_path: Path
) -> None:
    """Two byte-identical copies of the seed are one paper with a warning: exit 0, or 1 with --strict."""
    seed = SEED_PATH.read_bytes()
    built = beside_seed({"twin.state.json": seed})
    content, out, proc = built.content, built.out, built.proc
    assert proc.returncode == 0, proc.stderr
    _assert_seed_served(out, seed_alone)
    assert (
        f"states/twin.state.json: input.duplicate: byte-identical to {SEED_NAME} (pith:2026:{SEED_SUFFIX}); "
        f"they are one paper, shown from {SEED_NAME}"
    ) in proc.stderr
    assert " 1 papers" in proc.stderr.splitlines()[-1] or " 1 paper" in proc.stderr.splitlines()[-1]
    assert_manifest_lists_the_tree(out)
    assert build(content, tmp_path / "strict", "--strict").returncode == 1


def test_a_verified_copy_with_other_unsigned_fields_is_the_same_paper(
    beside_seed: Callable[..., Built], seed_alone: dict[str, bytes]
) -> None:
    """A copy of the seed with only unsigned fields edited (authors, and an integrity endpoint under
    the paper's own integrity.json file) verifies; it is the seed's paper, shown from the first input."""

    def edit(state: dict[str, Any]) -> None:
        snapshot = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]
        snapshot["paper"]["authors_text"] = "Somebody Else"
        snapshot["integrity"]["endpoint"] = "/pith/2607.01083/integrity.json/integrity.json"

    seed = SEED_PATH.read_bytes()
    built = beside_seed({"z-copy.state.json": tamper(seed, edit)})
    out, proc = built.out, built.proc
    assert proc.returncode == 0, proc.stderr
    _assert_seed_served(out, seed_alone)
    assert (
        f"states/z-copy.state.json: input.same_record: holds the same signed record as {SEED_NAME}"
    ) in proc.stderr
    assert "Somebody Else" not in (out / "index.html").read_text(encoding="utf-8")
    assert_manifest_lists_the_tree(out)


def test_a_stranger_claiming_the_seeds_arxiv_id_keeps_only_its_own_page(
    beside_seed: Callable[..., Built],
    new_paper: Callable[..., bytes],
    seed_alone: dict[str, bytes],
) -> None:
    """An unverifiable paper naming the seed's arXiv id gets its own page, and none of the seed's redirects."""
    squat = new_paper(STRANGER, "2607.01083", title="A squatter")
    built = beside_seed({"squat.state.json": squat})
    out, proc = built.out, built.proc
    assert proc.returncode == 1, proc.stderr
    _assert_seed_served(out, seed_alone)
    for path in ("arxiv/2607.01083", "arxiv/2607.01083v1", "doi/10.48550/arxiv.2607.01083"):
        assert f"/{path}/: claim.lost: states/squat.state.json" in proc.stderr
    squat_suffix = report_entries(out)["states/squat.state.json"]["pith_number"].rsplit(":", 1)[1]
    page = (out / "pith" / squat_suffix / "index.html").read_text(encoding="utf-8")
    assert "A squatter" in page and 'name="robots" content="noindex' in page
    assert_manifest_lists_the_tree(out)


def test_two_verified_papers_naming_one_arxiv_id_share_a_collision_page_there(
    beside_seed: Callable[..., Built],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    seed_alone: dict[str, bytes],
) -> None:
    """Two verified records naming one arXiv id (a registry inconsistency): the alias paths list both,
    the integrity endpoint both name serves neither; each paper keeps its own page and files."""
    other = new_paper(signing_key, "2607.01083", title="Another record of the same id")
    built = beside_seed({"other.state.json": other}, keys=[signing_key])
    out, proc = built.out, built.proc
    assert proc.returncode == 0, proc.stderr
    _assert_seed_served(out, seed_alone, except_under=("arxiv/", "doi/", "pith/2607.01083/"))
    assert "/arxiv/2607.01083/: alias.collision: claimed by states/other.state.json" in proc.stderr
    assert (
        "/pith/2607.01083/integrity.json: integrity.collision: named by states/other.state.json"
        in proc.stderr
    )
    html = (out / "arxiv" / "2607.01083" / "index.html").read_text(encoding="utf-8")
    assert "More than one paper claims" in html and "Another record of the same id" in html
    assert_manifest_lists_the_tree(out)


def test_an_endpoint_naming_the_seeds_integrity_path_is_not_served(
    beside_seed: Callable[..., Built],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    seed_alone: dict[str, bytes],
) -> None:
    """A verified paper whose unsigned endpoint names the seed's integrity path serves nothing there."""

    def squat(state: dict[str, Any]) -> None:
        snapshot = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]
        snapshot["integrity"]["endpoint"] = "/pith/2607.01083/integrity.json"

    other = tamper(new_paper(signing_key, "2607.09999", title="Elsewhere"), squat)
    built = beside_seed({"other.state.json": other}, keys=[signing_key])
    out, proc = built.out, built.proc
    assert proc.returncode == 0, proc.stderr
    _assert_seed_served(out, seed_alone)
    assert (
        "states/other.state.json: current.graph_snapshots.integrity.endpoint: integrity.path:" in proc.stderr
    )
    assert_manifest_lists_the_tree(out)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("arxiv", "2607.01083/index.html"),
        ("doi", "10.48550/arxiv.2607.01083/index.html"),
        ("doi", "10.48550/arxiv.2607.01083/INDEX.HTML"),
        ("arxiv_version", "2607.01083v1/index.html/x"),
    ],
)
def test_an_alias_under_a_page_file_never_stops_the_build(
    kind: str, value: str, beside_seed: Callable[..., Built], seed_alone: dict[str, bytes]
) -> None:
    """An alias whose path needs a directory where the seed's redirect has its file: no route, no exit 2."""

    def nest(state: dict[str, Any]) -> None:
        for alias in state["current"]["source_aliases"]:
            if alias["alias_kind"] == kind:
                alias["alias_value"] = value

    built = beside_seed({"nested.state.json": tamper(SEED_PATH.read_bytes(), nest)})
    out, proc = built.out, built.proc
    assert proc.returncode in (0, 1), proc.stderr
    _assert_seed_served(out, seed_alone)
    assert_manifest_lists_the_tree(out)
