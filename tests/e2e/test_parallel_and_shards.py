"""A parallel build, a single-process build and a sharded build merged give the same bytes."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from bench.corpus import generate_corpus, load_template, paper_bytes, state_name
from sitegen.site.shard import Shard
from tests.cli.helpers import run_cli
from tests.synth import SigningKey, dump_state, make_state

SHARDS = 3


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path) with the SHA-256 of its bytes."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _assert_same_tree(got: Path, want: Path) -> None:
    got_tree, want_tree = _tree(got), _tree(want)
    assert sorted(set(want_tree) - set(got_tree)) == [], "missing files"
    assert sorted(set(got_tree) - set(want_tree)) == [], "extra files"
    assert [p for p in want_tree if got_tree[p] != want_tree[p]] == [], "files that differ"


def _owner(name: str, data: bytes) -> int:
    return next(k for k in range(1, SHARDS + 1) if Shard(k, SHARDS).owns(name, data))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 generated papers plus a failed, a rejected and an unverifiable input, and an alias
    collision between two papers of different shards."""
    content = tmp_path_factory.mktemp("corpus") / "content"
    for _ in generate_corpus(40, content, seed=7):
        pass
    states = content / "states"
    good = (states / state_name(3).removeprefix("states/")).read_bytes()
    (states / "bad" / "tampered.state.json").parent.mkdir()
    doc = json.loads(good)
    receipt = doc["current"]["record_created"]["payload"]["receipt"]
    receipt["signature_b64"] = receipt["signature_b64"][::-1]
    (states / "bad" / "tampered.state.json").write_bytes(dump_state(doc))
    (states / "bad" / "truncated.state.json").write_bytes(good[: len(good) // 2])
    stranger = SigningKey.from_seed(b"a key this mirror does not trust", "stranger")
    untrusted = make_state(
        load_template(),
        stranger,
        source_id="2101.00001",
        title="Signed elsewhere",
        authors=["A B"],
        submitted_at="2021-01-04T00:00:00Z",
    )
    (states / "bad" / "untrusted.state.json").write_bytes(dump_state(untrusted))
    # A second version of a paper is another record claiming the same arXiv id and DOI:
    # pick one whose two versions land in different shards.
    key = SigningKey.from_seed(b"pith-sitegen bench key 7", "bench-key")
    for index in range(40):
        first = (content / state_name(index)).read_bytes()
        second = paper_bytes(load_template(), key, index, 7, revision=1)
        if _owner(state_name(index), first) != _owner("states/v2.state.json", second):
            (states / "v2.state.json").write_bytes(second)
            break
    else:
        pytest.fail("no paper whose two versions fall in different shards")
    return content


@pytest.fixture(scope="module")
def whole(
    corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The corpus built in one process."""
    out = tmp_path_factory.mktemp("whole") / "site"
    return out, run_cli("build", "--content", corpus, "--out", out, "--jobs", "1", "--quiet")


def test_parallel_build_is_byte_identical_to_single_process(
    corpus: Path, whole: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """`build --jobs 2` writes exactly the files, and the bytes, of `build --jobs 1`."""
    single, single_run = whole
    assert single_run.returncode == 1, single_run.stderr
    assert "41 verified, 1 failed, 1 unverifiable, 1 rejected" in single_run.stderr
    parallel = run_cli("build", "--content", corpus, "--out", tmp_path / "site", "--jobs", "2", "--quiet")
    assert parallel.returncode == 1, parallel.stderr
    _assert_same_tree(tmp_path / "site", single)


def test_sharded_build_merged_equals_whole_build(
    corpus: Path, whole: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """Three `build --shard K/3` outputs merged are byte-identical to the whole build,
    including the verification report, SHA256SUMS and a collision across shards."""
    single, _ = whole
    shard_dirs = []
    for k in range(1, SHARDS + 1):
        shard_dir = tmp_path / f"shard-{k}"
        run = run_cli("build", "--content", corpus, "--out", shard_dir, "--shard", f"{k}/{SHARDS}", "--quiet")
        assert run.returncode in (0, 1), run.stderr
        assert not (shard_dir / "index.html").exists(), "a shard writes no site-wide pages"
        shard_dirs.append(shard_dir)
    logged = [len((d / "sitegen-shard.jsonl").read_text().splitlines()) - 1 for d in shard_dirs]
    assert sum(logged) == 44 and min(logged) > 0, logged
    merged = run_cli("merge", *shard_dirs, "--content", corpus, "--out", tmp_path / "merged")
    assert merged.returncode == 1, merged.stderr
    assert "alias.collision" in merged.stderr
    _assert_same_tree(tmp_path / "merged", single)


def test_merge_refuses_an_incomplete_or_foreign_set_of_shards(corpus: Path, tmp_path: Path) -> None:
    """`merge` exits 2 naming the problem when a shard is missing or was built from other content."""
    for k in (1, 2):
        run = run_cli(
            "build", "--content", corpus, "--out", tmp_path / f"s{k}", "--shard", f"{k}/2", "--quiet"
        )
        assert run.returncode in (0, 1), run.stderr
    missing = run_cli("merge", tmp_path / "s1", "--content", corpus, "--out", tmp_path / "m")
    assert missing.returncode == 2
    assert "shard.set" in missing.stderr and "missing 2/2" in missing.stderr
    (corpus.parent / "other").mkdir(exist_ok=True)
    other = corpus.parent / "other" / "content"
    if not other.exists():
        for _ in generate_corpus(2, other, seed=7):
            pass
    foreign = run_cli("merge", tmp_path / "s1", tmp_path / "s2", "--content", other, "--out", tmp_path / "m")
    assert foreign.returncode == 2
    assert "shard.content" in foreign.stderr
    assert not (tmp_path / "m").exists()


def test_shard_follows_the_pith_suffix_not_the_file_name() -> None:
    """A state file keeps its shard when renamed; inputs without a Pith number go by path."""
    data = paper_bytes(load_template(), SigningKey.from_seed(b"k", "k"), 5, 1)
    owners = {_owner(f"states/{name}.json", data) for name in ("a", "b/c", "renamed", "x/y/z")}
    assert len(owners) == 1
    spread = {_owner(f"states/broken-{n}.json", b"{") for n in range(30)}
    assert spread == set(range(1, SHARDS + 1))


def test_bad_shard_argument_exits_2(tmp_path: Path) -> None:
    """`--shard 4/3` is refused before anything is built."""
    run = run_cli("build", "--content", tmp_path, "--out", tmp_path / "o", "--shard", "4/3")
    assert run.returncode == 2
    assert "1 <= K <= N" in run.stderr
