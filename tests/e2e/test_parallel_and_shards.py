"""A parallel build, a single-process build and a sharded build merged give the same bytes."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import generate_corpus, load_template, paper_bytes, state_name
from sitegen.site.shard import Shard
from tests.cli.helpers import operator_key, run_cli, run_on_terminal
from tests.e2e.sitebuild import tamper
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
    """40 generated papers plus a failed, a rejected and an unverifiable input, an alias
    collision between two papers of different shards, and a verified copy of a paper with other
    unsigned fields (one paper, rendered once more from the first input)."""
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

    def other_authors(state: dict[str, Any]) -> None:
        snapshot = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]
        snapshot["paper"]["authors_text"] = "Somebody Else"

    (states / "copy.state.json").write_bytes(tamper(good, other_authors))
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
    assert "42 verified, 1 failed, 1 unverifiable, 1 rejected" in single_run.stderr
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
    assert sum(logged) == 45 and min(logged) > 0, logged
    merged = run_cli("merge", *shard_dirs, "--content", corpus, "--out", tmp_path / "merged")
    assert merged.returncode == 1, merged.stderr
    assert "alias.collision" in merged.stderr
    _assert_same_tree(tmp_path / "merged", single)


def _shards(corpus: Path, root: Path, count: int) -> list[Path]:
    """``build --shard K/count`` of ``corpus`` for every K, under ``root``."""
    dirs = []
    for k in range(1, count + 1):
        shard_dir = root / f"shard-{k}"
        run = run_cli("build", "--content", corpus, "--out", shard_dir, "--shard", f"{k}/{count}", "--quiet")
        assert run.returncode in (0, 1), run.stderr
        dirs.append(shard_dir)
    return dirs


def _deploy_overlay(shard_dirs: Sequence[Path], overlay: Path, bucket: Path) -> None:
    """What docs/deploy.md's sharded recipe does to a bucket: each shard's tree copied in (its
    held files and log left out; shards in any order), the files the overlay withdraws deleted,
    then the overlay copied over (its list left out)."""
    for shard_dir in reversed(shard_dirs):  # the jobs finish in any order; a later copy wins
        shutil.copytree(
            shard_dir,
            bucket,
            ignore=shutil.ignore_patterns(".held", "sitegen-shard.jsonl"),
            dirs_exist_ok=True,
        )
    for rel in (overlay / "sitegen-withdrawn.txt").read_text(encoding="utf-8").splitlines():
        (bucket / rel).unlink()
    shutil.copytree(
        overlay, bucket, ignore=shutil.ignore_patterns("sitegen-withdrawn.txt"), dirs_exist_ok=True
    )


def test_overlay_merge_on_the_shards_trees_equals_whole_build(
    corpus: Path, whole: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """`merge --overlay` links none of the shards' paper files: deployed on top of their trees as
    docs/deploy.md says, it gives the whole build byte for byte, and `check --operator-key`
    verifies it with the signature the merge made."""
    single, _ = whole
    shard_dirs = _shards(corpus, tmp_path, SHARDS)
    # The overlay's merge needs only each shard's log, held files and papers' integrity.json,
    # picked as docs/deploy.md's recipe picks them.
    artifacts = []
    for shard_dir in shard_dirs:
        artifact = tmp_path / f"merge-{shard_dir.name}"
        artifact.mkdir()
        subprocess.run(
            "find . -type f \\( -name sitegen-shard.jsonl -o -path './.held/*' -o -path './pith/*/integrity.json' \\)"
            f" | tar cf - -T - | tar xf - -C {artifact}",
            shell=True,
            cwd=shard_dir,
            check=True,
            timeout=60,
        )
        artifacts.append(artifact)
    assert not list(artifacts[0].glob("pith/*/index.html")), "no page goes to the merge"
    private, public = operator_key(tmp_path)
    merged = run_cli(
        "merge",
        "--overlay",
        *artifacts,
        "--content",
        corpus,
        "--out",
        tmp_path / "overlay",
        "--sign-manifest",
        private,
    )
    assert merged.returncode == 1, merged.stderr
    assert "alias.collision" in merged.stderr and "an overlay on the shards' trees" in merged.stderr
    overlay = tmp_path / "overlay"
    report = json.loads((overlay / "verification-report.json").read_text(encoding="utf-8"))
    held = {
        entry["pith_number"].rsplit(":", 1)[-1]
        for entry in report["not_verified"]
        if entry.get("pith_number")
    }
    rendered_again = json.loads((corpus / state_name(3)).read_bytes())["pith_number"].rsplit(":", 1)[-1]
    pages = {page.parent.name for page in overlay.glob("pith/*/index.html") if len(page.parent.name) == 26}
    assert rendered_again in pages and pages <= held | {rendered_again}, (
        "the overlay holds the pages of papers not verified (held) and of the copied paper, no other"
    )
    assert (overlay / "SHA256SUMS").is_file() and (overlay / "index.html").is_file()
    bucket = tmp_path / "bucket"
    _deploy_overlay(shard_dirs, overlay, bucket)
    checked = run_cli("check", bucket, "--keys", corpus / "keys", "--operator-key", public, timeout=120)
    assert checked.returncode == 0 and " 0 problems" in checked.stderr, checked.stderr
    assert "note: SHA256SUMS is signed by the operator key given" in checked.stderr
    (bucket / "SHA256SUMS.sig").unlink()  # the whole build was not signed
    _assert_same_tree(bucket, single)


def test_merge_shows_its_progress_on_a_terminal(corpus: Path, tmp_path: Path) -> None:
    """On a terminal, `merge` counts the logged state files it has read, says when the site-wide
    files are being written, and ends with its summary; with --quiet it shows only the summary."""
    shard_dirs = _shards(corpus, tmp_path, 2)
    returncode, shown = run_on_terminal(
        "merge", "--overlay", *shard_dirs, "--content", corpus, "--out", tmp_path / "o"
    )
    assert returncode == 1, shown
    assert "\rreading the shards' logs: 45/45 state files; writing the site-wide files\r\n" in shown
    assert "summary: 42 verified" in shown and shown.index("site-wide files") < shown.index("summary:")
    returncode, quiet = run_on_terminal(
        "merge", *shard_dirs, "--content", corpus, "--out", tmp_path / "q", "--quiet"
    )
    assert returncode == 1 and "reading the shards' logs" not in quiet and "summary: 42 verified" in quiet


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


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda line: line[: len(line) // 2] + b"\n", "line 3: malformed entry"),
        (lambda line: line.replace(b"\t", b" ", 1), "line 3: malformed entry: no tab after the report"),
        (lambda line: b"", "the shards logged 44 state files, the content has 45"),
    ],
    ids=["truncated", "no-tab", "missing"],
)
def test_merge_refuses_a_damaged_shard_log(
    corpus: Path, tmp_path: Path, damage: Callable[[bytes], bytes], expected: str
) -> None:
    """A shard log cut short, garbled or missing a line stops the merge (exit 2) naming the log
    line and the check, and nothing is published."""
    shard_dirs = _shards(corpus, tmp_path, 2)
    log = shard_dirs[0] / "sitegen-shard.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    lines[2] = damage(lines[2])
    log.write_bytes(b"".join(lines))
    for overlay in ((), ("--overlay",)):
        run = run_cli("merge", *overlay, *shard_dirs, "--content", corpus, "--out", tmp_path / "m")
        assert run.returncode == 2, run.stderr
        assert expected in run.stderr and "shard." in run.stderr, run.stderr
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
