"""Incremental builds give the same tree as a clean build, and skip work only when safe."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli, summary_line, tree_differences
from tests.synth import SigningKey


def _build_both(content: Path, tmp_path: Path, step: str, *options: str) -> str:
    """Build incrementally into ``site`` (with ``options``) and cleanly into a fresh directory; they must match."""
    incremental = run_cli("build", "--content", content, "--out", tmp_path / "site", "--json", *options)
    clean = run_cli(
        "build", "--content", content, "--out", tmp_path / f"clean-{step}", "--no-cache", "--json"
    )
    assert incremental.returncode == clean.returncode, (incremental.stderr, clean.stderr)
    assert tree_differences(tmp_path / "site", tmp_path / f"clean-{step}") == [], step
    assert incremental.stdout == clean.stdout
    site = tmp_path / "site"
    bins = [line[66:] for line in (site / "SHA256SUMS").read_text(encoding="utf-8").splitlines()]
    listed = bins + [
        line[66:] for name in bins for line in (site / name).read_text(encoding="utf-8").splitlines()
    ]
    assert len(listed) == len(set(listed)), "a path listed twice: patching the next build relies on once"
    return summary_line(incremental.stderr)


def _rendered(summary: str) -> tuple[int, int]:
    match = re.search(r"(\d+) inputs rendered, (\d+) reused", summary)
    assert match, summary
    return int(match[1]), int(match[2])


@pytest.mark.parametrize("publish", ["swap", "patch"])
def test_edit_add_remove_sequence_matches_clean_builds(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    seed_bytes: bytes,
    tmp_path: Path,
    publish: str,
) -> None:
    """Each incremental build after an edit, addition or removal is byte-identical to a clean build,
    swapped in whole (staged in the spare from the second rebuild on) or patched in place."""
    states = {
        "seed.state.json": seed_bytes,
        "a.state.json": new_paper(signing_key, "2607.10001", "Paper A"),
        "b.state.json": new_paper(signing_key, "2607.10002", "Paper B", submitted_at="2026-07-02T10:00:00Z"),
        "old/c.state.json": new_paper(
            signing_key, "hep-lat/0305021", "Paper C", submitted_at="2003-05-21T00:00:00Z"
        ),
    }
    content = make_content(states, keys=[signing_key])
    first = _build_both(content, tmp_path, "first", "--publish", publish)
    assert _rendered(first) == (4, 0)
    assert "4 verified" in first

    noop = run_cli("build", "--content", content, "--out", tmp_path / "site", "--publish", publish)
    assert noop.returncode == 0, noop.stderr
    assert _rendered(summary_line(noop.stderr)) == (0, 4)
    assert summary_line(noop.stderr).startswith(first.split("; 4 inputs")[0])  # same counts and warnings
    assert "0 files written" in summary_line(noop.stderr)
    assert tree_differences(tmp_path / "site", tmp_path / "clean-first") == []
    full = run_cli("build", "--content", content, "--out", tmp_path / "site", "--json", "--publish", publish)
    assert _rendered(summary_line(full.stderr)) == (0, 4)
    assert (
        full.stdout
        == run_cli("build", "--content", content, "--out", tmp_path / "x", "--no-cache", "--json").stdout
    )
    assert tree_differences(tmp_path / "site", tmp_path / "clean-first") == []

    (content / "states" / "a.state.json").write_bytes(
        new_paper(signing_key, "2607.10001", "Paper A, revised")
    )
    assert _rendered(_build_both(content, tmp_path, "edit", "--publish", publish)) == (1, 3)

    (content / "states" / "d.state.json").write_bytes(
        new_paper(signing_key, "2607.10004", "Paper D", submitted_at="2026-08-01T00:00:00Z")
    )
    assert _rendered(_build_both(content, tmp_path, "add", "--publish", publish)) == (1, 4)

    (content / "states" / "b.state.json").unlink()
    assert _rendered(_build_both(content, tmp_path, "remove", "--publish", publish)) == (0, 4)

    tampered = json.loads((content / "states" / "d.state.json").read_text(encoding="utf-8"))
    tampered["current"]["canonical_record"]["metadata"]["license"] = "tampered"
    (content / "states" / "d.state.json").write_text(json.dumps(tampered), encoding="utf-8")
    (content / "states" / "d-copy.state.json").write_bytes(seed_bytes)  # two inputs claim one paper
    summary = _build_both(content, tmp_path, "tamper-and-collide", "--publish", publish)
    assert "1 failed" in summary
    assert _rendered(summary) == (2, 3)

    (content / "states" / "d-copy.state.json").unlink()  # the duplicate goes: the seed renders again
    # and so does the failed d, as every input that is not verified does (its files are held until settled)
    assert _rendered(_build_both(content, tmp_path, "collision-gone", "--publish", publish)) == (2, 2)

    (content / "site.yaml").write_text("title: Renamed mirror\nbase_url: /mirror/\n", encoding="utf-8")
    assert _rendered(_build_both(content, tmp_path, "config", "--publish", publish)) == (4, 0)


@pytest.fixture
def papers(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], signing_key: SigningKey
) -> Callable[[int], Path]:
    """A content directory of ``count`` signed papers: a.state.json (2607.10001, Paper A), b..."""

    def build(count: int) -> Path:
        states = {
            f"{chr(97 + i)}.state.json": new_paper(signing_key, f"2607.1000{i + 1}", f"Paper {chr(65 + i)}")
            for i in range(count)
        }
        return make_content(states, keys=[signing_key])

    return build


def test_hand_edits_of_the_live_site_are_found_by_check_and_repaired_by_a_clean_build(
    papers: Callable[[int], Path], tmp_path: Path
) -> None:
    """The build trusts its own output: ``check`` names a deleted file; a changed SHA256SUMS means a full build."""
    content = papers(1)
    _build_both(content, tmp_path, "first")
    site = tmp_path / "site"
    record = next((site / "pith").glob("*/record.json"))
    record.unlink()
    assert _rendered(summary_line(run_cli("build", "--content", content, "--out", site).stderr)) == (0, 1)
    audit = run_cli("check", site)
    assert audit.returncode == 1
    assert record.relative_to(site).as_posix() in audit.stdout + audit.stderr

    sums = site / "SHA256SUMS"
    sums.write_bytes(sums.read_bytes().replace(b"record.json", b"record.jsn"))  # a site no build left
    assert _rendered(_build_both(content, tmp_path, "again")) == (1, 0)


def test_a_site_and_cache_restored_elsewhere_are_reused(
    papers: Callable[[int], Path], tmp_path: Path
) -> None:
    """Copies of content, site and cache (new inodes and times, as a CI cache restores them) still reuse every paper."""
    content = papers(2)
    _build_both(content, tmp_path, "first")
    restored = tmp_path / "restored"
    shutil.copytree(content, restored / "content")
    shutil.copytree(tmp_path / "site", restored / "site")
    shutil.copytree(tmp_path / ".site.cache", restored / ".site.cache")
    again = run_cli("build", "--content", restored / "content", "--out", restored / "site")
    assert again.returncode == 0, again.stderr
    assert _rendered(summary_line(again.stderr)) == (0, 2)
    assert "0 files written" in summary_line(again.stderr)
    assert tree_differences(restored / "site", tmp_path / "clean-first") == []


def test_many_changes_rendered_by_worker_processes_match_a_clean_build(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """Worker processes rendering into a staging tree seeded with reused files give the clean build's tree."""
    states = {f"p{i}.state.json": new_paper(signing_key, f"2607.2000{i}", f"Paper {i}") for i in range(10)}
    content = make_content(states, keys=[signing_key])
    assert run_cli("build", "--content", content, "--out", tmp_path / "site", "--jobs", "2").returncode == 0
    for i in range(8):
        (content / "states" / f"p{i}.state.json").write_bytes(
            new_paper(signing_key, f"2607.2000{i}", f"Paper {i}, second version")
        )
    incremental = run_cli("build", "--content", content, "--out", tmp_path / "site", "--jobs", "2")
    clean = run_cli("build", "--content", content, "--out", tmp_path / "clean", "--jobs", "2", "--no-cache")
    assert (incremental.returncode, clean.returncode) == (0, 0), incremental.stderr
    assert _rendered(summary_line(incremental.stderr)) == (8, 2)
    assert tree_differences(tmp_path / "site", tmp_path / "clean") == []


def test_the_cache_keeps_one_entry_per_state_across_rebuilds(
    papers: Callable[[int], Path], new_paper: Callable[..., bytes], signing_key: SigningKey, tmp_path: Path
) -> None:
    """Rebuild after rebuild, the cache indexes each state once, and its streams do not grow with the
    number of builds: a rebuild appends the changed states' bytes until the streams are twice the
    bytes indexed, then the next one writes them afresh."""
    content = papers(3)
    site = tmp_path / "site"
    cache = tmp_path / ".site.cache"
    report_lines = []
    for revision in range(6):
        (content / "states" / "a.state.json").write_bytes(
            new_paper(signing_key, "2607.10001", f"Paper A, revision {revision}")
        )
        built = run_cli("build", "--content", content, "--out", site)
        assert built.returncode == 0, built.stderr
        assert _rendered(summary_line(built.stderr)) == ((3, 0) if revision == 0 else (1, 2))
        (index,) = cache.glob("*.index")  # one generation: the previous one is deleted
        generation = index.name.removesuffix(".index")
        streams = {f"{generation}.{name}" for name in ("reports", "manifest", "summaries", "site", "orders")}
        assert {p.name for p in cache.iterdir()} == {"HEAD", "templates", index.name, *streams}
        names = json.loads(index.read_bytes().split(b"\n", 1)[0])[0]
        assert names == [f"states/{name}.state.json" for name in "abc"]  # an entry per state, in input order
        report_lines.append((cache / f"{generation}.reports").read_bytes().count(b",\n"))
    # 3 lines, then one more a rebuild until a stream is past twice its indexed bytes: 3 again
    assert report_lines[:2] == [3, 4]
    assert all(now in (before + 1, 3) for before, now in itertools.pairwise(report_lines))
    assert 3 in report_lines[2:]
    assert max(report_lines) <= 2 * 3 + 1


def test_a_damaged_cache_means_a_clean_build_never_a_wrong_site(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """A report line garbled in place, a stream shorter than ``HEAD`` says, or an index entry changed:
    every input is rendered again."""
    good = new_paper(signing_key, "2607.10001", "Paper A")
    failed = new_paper(signing_key, "2607.10002", "Paper B").replace(b"Paper B", b"Paper Z")
    content = make_content({"a.state.json": good, "b.state.json": failed}, keys=[signing_key])
    assert _rendered(_build_both(content, tmp_path, "first")) == (2, 0)
    cache = tmp_path / ".site.cache"

    (reports,) = cache.glob("*.reports")
    data = reports.read_bytes()
    assert data.count(b'"kind":"state"') == 2 and b'"status":"failed"' in data
    reports.write_bytes(data.replace(b'"kind":"state"', b'"kind":"state!'))  # same size, not JSON
    assert _rendered(_build_both(content, tmp_path, "garbled")) == (2, 0)

    (content / "states" / "a.state.json").write_bytes(new_paper(signing_key, "2607.10001", "Paper A, v2"))
    (reports,) = cache.glob("*.reports")
    reports.write_bytes(reports.read_bytes().replace(b'"kind":"state"', b'"kind":"state!'))
    assert _rendered(_build_both(content, tmp_path, "garbled-change")) == (2, 0)

    (summaries,) = cache.glob("*.summaries")
    summaries.write_bytes(summaries.read_bytes()[:-1])
    assert _rendered(_build_both(content, tmp_path, "truncated")) == (2, 0)

    (index,) = cache.glob("*.index")
    data = bytearray(index.read_bytes())
    entries = data.index(b"\n") + 1
    size = (len(data) - entries) // 2  # two states' entries, a (verified) then b (failed)
    data[entries + size + 112] = data[entries + 112]  # b's verdict byte says what a's does
    index.write_bytes(bytes(data))
    assert _rendered(_build_both(content, tmp_path, "index")) == (2, 0)


def test_bytes_a_failed_build_appended_to_the_streams_are_cut_off_by_the_next(
    papers: Callable[[int], Path], new_paper: Callable[..., bytes], signing_key: SigningKey, tmp_path: Path
) -> None:
    """A rebuild appends to the streams the last generation shares with it; one that never commits
    leaves bytes past what ``HEAD`` says. The next rebuild still reuses every unchanged state, cuts
    those bytes off, and matches a clean build."""
    content = papers(4)
    assert _rendered(_build_both(content, tmp_path, "first")) == (4, 0)
    cache = tmp_path / ".site.cache"
    sizes = {}
    for name in ("reports", "manifest", "summaries"):
        (stream,) = cache.glob(f"*.{name}")
        sizes[name] = stream.stat().st_size
        with stream.open("ab") as handle:  # what a build killed before its commit leaves
            handle.write(b'{"not": "a line of this generation"},\n' * 50)
    (content / "states" / "a.state.json").write_bytes(new_paper(signing_key, "2607.10001", "Paper A, v2"))
    assert _rendered(_build_both(content, tmp_path, "after-a-failed-build")) == (1, 3)
    for name, size in sizes.items():
        (stream,) = cache.glob(f"*.{name}")
        data = stream.read_bytes()
        assert len(data) > size and b"a line of this generation" not in data, name  # appended after the cut


@pytest.mark.parametrize("publish", ["swap", "patch"])
def test_listing_pages_kept_from_the_last_build_match_a_clean_build(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
    publish: str,
) -> None:
    """A month's page is kept from the last build only while its own papers and place are unchanged:
    after an edit on one page, a paper that shifts a month's pages, and a removal, every listing
    is the clean build's."""

    def paper(source_id: str, title: str, day: str) -> bytes:
        return new_paper(signing_key, source_id, title, submitted_at=f"{day}T10:00:00Z")

    states = {
        f"a{i}.state.json": paper(f"2607.3000{i}", f"July paper {i}", f"2026-07-0{i}") for i in range(1, 6)
    }
    states |= {f"b{i}.state.json": paper(f"2606.3000{i}", f"June paper {i}", f"2026-06-0{i}") for i in (1, 2)}
    content = make_content(states, keys=[signing_key])
    (content / "site.yaml").write_text("title: Listing mirror\npapers_per_page: 2\n", encoding="utf-8")
    _build_both(content, tmp_path, "first", "--publish", publish)
    site = tmp_path / "site"
    assert (site / "papers" / "2026" / "07" / "3" / "index.html").is_file()

    (content / "states" / "a3.state.json").write_bytes(
        paper("2607.30003", "July paper 3, revised", "2026-07-03")
    )
    _build_both(content, tmp_path, "edit", "--publish", publish)
    assert "July paper 3, revised" in (site / "papers" / "2026" / "07" / "2" / "index.html").read_text(
        "utf-8"
    )

    (content / "states" / "a0.state.json").write_bytes(paper("2607.30000", "July paper 0", "2026-07-01"))
    _build_both(content, tmp_path, "shift", "--publish", publish)
    assert "July paper 0" in (site / "papers" / "2026" / "07" / "index.html").read_text("utf-8")

    (content / "states" / "b1.state.json").unlink()
    (content / "states" / "a4.state.json").unlink()
    (content / "states" / "a5.state.json").unlink()
    _build_both(content, tmp_path, "remove", "--publish", publish)
    assert not (site / "papers" / "2026" / "07" / "3").exists()

    (content / "states" / "a9.state.json").write_bytes(paper("2607.30009", "July paper 9", "2026-07-09"))
    _build_both(content, tmp_path, "append", "--publish", publish)  # page 2 keeps its papers, links a page 3
    assert "later" in (site / "papers" / "2026" / "07" / "2" / "index.html").read_text("utf-8")


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_site_file_in_the_cache_means_a_clean_build(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
    damage: str,
) -> None:
    """The cache's ``site`` file (the SHA-256 of each site-wide file the live ``SHA256SUMS`` lists,
    which a patched rebuild trusts), shorter than ``HEAD`` says or gone: every state is rendered again."""
    states = {f"p{i}.state.json": new_paper(signing_key, f"2607.4000{i}", f"Paper {i}") for i in range(3)}
    content = make_content(states, keys=[signing_key])
    assert _rendered(_build_both(content, tmp_path, "first", "--publish", "patch")) == (3, 0)
    (site_sums,) = (tmp_path / ".site.cache").glob("*.site")
    assert b"  pith/2607.40001/integrity.json\n" in site_sums.read_bytes()
    if damage == "truncated":
        site_sums.write_bytes(site_sums.read_bytes()[:-1])
    else:
        site_sums.unlink()
    (content / "states" / "p0.state.json").write_bytes(new_paper(signing_key, "2607.40000", "Paper 0, v2"))
    assert _rendered(_build_both(content, tmp_path, "damaged", "--publish", "patch")) == (3, 0)


def test_integrity_endpoints_patched_in_place_follow_their_claimants(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """A patched rebuild keeps the endpoint links the live ``SHA256SUMS`` lists with their bytes and
    links the rest: when a second paper names a served endpoint, when the first goes, and when a
    paper's state changes, the site is the clean build's each time."""
    content = make_content(
        {
            "a.state.json": new_paper(signing_key, "2607.50001", "First of one id"),
            "c.state.json": new_paper(signing_key, "2607.50002", "Another paper"),
        },
        keys=[signing_key],
    )
    endpoint = tmp_path / "site" / "pith" / "2607.50001" / "integrity.json"
    assert _rendered(_build_both(content, tmp_path, "first", "--publish", "patch")) == (2, 0)
    assert endpoint.is_file()
    (content / "states" / "b.state.json").write_bytes(
        new_paper(signing_key, "2607.50001", "Second of one id, another record")
    )
    _build_both(content, tmp_path, "second", "--publish", "patch")
    assert not endpoint.exists(), "two verified papers name it: neither is served"
    (content / "states" / "a.state.json").unlink()
    _build_both(content, tmp_path, "first-gone", "--publish", "patch")
    assert endpoint.is_file(), "the second paper's integrity file is served there now"
    (content / "states" / "c.state.json").write_bytes(new_paper(signing_key, "2607.50002", "Another, v2"))
    assert _rendered(_build_both(content, tmp_path, "changed", "--publish", "patch")) == (1, 1)


def test_a_new_paper_claiming_the_directory_above_a_served_endpoint_matches_a_clean_build(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """A patched rebuild whose new paper's short alias claims ``pith/<X>`` takes the endpoint
    ``/pith/<X>/integrity.json`` that another paper was served at (it is no longer a safe path
    outside the paper and alias pages), as a clean build does; and gives it back when it goes."""
    claimer = new_paper(signing_key, "2607.50010", "Its short alias claims a directory")
    short = json.loads(claimer)["pith_number"].rsplit(":", 1)[1][:8]
    content = make_content(
        {"a.state.json": new_paper(signing_key, short, "Served under a short form's directory")},
        keys=[signing_key],
    )
    endpoint = tmp_path / "site" / "pith" / short / "integrity.json"
    _build_both(content, tmp_path, "first", "--publish", "patch")
    assert endpoint.is_file()
    (content / "states" / "b.state.json").write_bytes(claimer)
    _build_both(content, tmp_path, "claimed", "--publish", "patch")  # warnings too: the --json output
    assert not endpoint.exists()
    assert (tmp_path / "site" / "pith" / short / "index.html").is_file(), "the short alias's page"
    (content / "states" / "b.state.json").unlink()
    _build_both(content, tmp_path, "claim-gone", "--publish", "patch")
    assert endpoint.is_file()


def test_a_new_paper_whose_endpoint_lies_under_a_claimed_directory_matches_a_clean_build(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """A patched rebuild adding a paper whose endpoint ``/pith/<X>/integrity.json`` is under a
    directory another paper's short alias claims serves no endpoint there (a warning says why),
    as a clean build does."""
    claimer = new_paper(signing_key, "2607.50020", "Its short alias claims a directory")
    short = json.loads(claimer)["pith_number"].rsplit(":", 1)[1][:8]
    content = make_content(
        {
            "a.state.json": claimer,
            "c.state.json": new_paper(signing_key, "2607.50021", "A paper served throughout"),
        },
        keys=[signing_key],
    )
    _build_both(content, tmp_path, "first", "--publish", "patch")
    (content / "states" / "b.state.json").write_bytes(
        new_paper(signing_key, short, "Named under a short form's directory")
    )
    summary = _build_both(content, tmp_path, "added", "--publish", "patch")
    assert _rendered(summary) == (1, 2)
    assert (tmp_path / "site" / "pith" / short / "index.html").is_file(), "the short alias's page"
    assert not (tmp_path / "site" / "pith" / short / "integrity.json").exists()
    assert (tmp_path / "site" / "pith" / "2607.50021" / "integrity.json").is_file()


def test_an_alias_bin_is_spliced_from_its_live_file_only_when_that_is_the_file_the_last_build_made(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """A patched rebuild makes a changed alias bin from the live one, keeping the entries of papers
    it did not render. A live bin edited by hand (its SHA-256 is not the one the last build noted)
    is not spliced: the bin is made from the papers, and the site is the clean build's."""
    states = {f"p{n}.state.json": new_paper(signing_key, f"2607.4100{n}", f"Paper {n}") for n in range(8)}
    content = make_content(states, keys=[signing_key])
    _build_both(content, tmp_path, "first", "--publish", "patch")
    site = tmp_path / "site"
    revised = "2607.41003"
    shared = next(
        path
        for path in sorted((site / "aliases").rglob("*.json"))
        if revised in (text := path.read_text(encoding="utf-8"))
        and text.count('"input"') > text.count(revised)
    )  # a bin holding an alias of the paper to revise and an entry of another paper
    edited = shared.read_text(encoding="utf-8")
    other = next(
        entry["input"] for entry in json.loads(edited)["aliases"] if entry["input"] != "states/p3.state.json"
    )
    shared.write_text(edited.replace(f'"input": "{other}"', '"input": "states/forged.state.json"'), "utf-8")

    (content / "states" / "p3.state.json").write_bytes(new_paper(signing_key, revised, "Paper 3, revised"))
    assert _rendered(_build_both(content, tmp_path, "revised", "--publish", "patch")) == (1, 7)
    assert "forged" not in shared.read_text(encoding="utf-8")
