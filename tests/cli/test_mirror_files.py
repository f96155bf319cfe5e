"""The files a mirror publishes about itself, and another mirror pulling from them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from sitegen.pith.keys import Keyring, parse_key
from sitegen.render.mirror_files import current_key
from tests.cli.helpers import run_cli, static_server, summary_line
from tests.conftest import REGISTRY_KEY_PATH, sitemap_urls
from tests.synth import SigningKey

ATOM = "{http://www.w3.org/2005/Atom}"


def _papers(new_paper: Callable[..., bytes], key: SigningKey, seed_bytes: bytes) -> dict[str, bytes]:
    return {
        "seed.state.json": seed_bytes,  # submitted 2026-07-01
        "old.state.json": new_paper(
            key, "hep-lat/0305021", "Old <paper> & co", submitted_at="2003-05-21T00:00:00Z"
        ),
        "new.state.json": new_paper(key, "2608.00001", "Newest paper", submitted_at="2026-08-02T09:00:00Z"),
    }


def test_manifest_key_sitemap_robots_and_feed(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    seed_bytes: bytes,
    tmp_path: Path,
) -> None:
    """With a base_url naming a host, every self-description file is written and consistent."""
    states = _papers(new_paper, signing_key, seed_bytes)
    content = make_content(
        states, keys=[signing_key], site_yaml="title: M\nbase_url: https://mirror.example/m/\n"
    )
    proc = run_cli("build", "--content", content, "--out", tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    assert "0 warnings" in summary_line(proc.stderr)
    site = tmp_path / "site"

    manifest = json.loads((site / "pith-mirrors.json").read_text(encoding="utf-8"))
    assert manifest["manifest_type"] == "pith_mirror_manifest"
    assert manifest["generated_at"] == "2026-08-02T09:00:00Z"
    mirror = manifest["mirrors"][0]
    assert mirror["base_url"] == "https://mirror.example/m"
    assert mirror["state_pattern"] == "https://mirror.example/m/pith/{suffix}/state.json"
    trusted = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((content / "keys").glob("*.json"))]
    assert sorted(mirror["public_keys"], key=lambda k: k["key_id"]) == trusted
    published_key = json.loads((site / "pith-signing-key.json").read_text(encoding="utf-8"))
    assert published_key == mirror["public_key"] == signing_key.key_document()  # greater key id, same dates

    robots = (site / "robots.txt").read_text(encoding="utf-8")
    assert robots.endswith("Sitemap: https://mirror.example/m/sitemap.xml\n")
    locs = sitemap_urls(site)
    for data in states.values():
        suffix = json.loads(data)["pith_number"].rsplit(":", 1)[1]
        assert f"https://mirror.example/m/pith/{suffix}/" in locs

    feed = ET.parse(site / "feed.xml").getroot()
    assert feed.findtext(f"{ATOM}updated") == "2026-08-02T09:00:00Z"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Newest paper",
        "Staleness-Learning Rate Scaling Laws for Asynchronous RLHF",
        "Old <paper> & co",
    ]
    for entry, name in zip(entries, ["new.state.json", "seed.state.json", "old.state.json"], strict=True):
        digest = json.loads(states[name])["current"]["record_created"]["payload"]["canonical_sha256"]
        summary = entry.findtext(f"{ATOM}summary") or ""
        assert f"(SHA-256 {digest}) and the registry's signature over it were checked" in summary
        assert "Authors, stated by the registry (not signed): " in summary
        assert entry.findall(f"{ATOM}author") == []


def test_path_only_base_url_warns_and_writes_no_absolute_url_files(
    make_content: Callable[..., Path], seed_bytes: bytes, tmp_path: Path
) -> None:
    """A base_url without a host: no sitemap or feed, robots without a sitemap, path patterns, one warning."""
    content = make_content({"seed.state.json": seed_bytes})
    proc = run_cli("build", "--content", content, "--out", tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    assert "sitemap.xml and feed.xml are not written" in proc.stderr
    site = tmp_path / "site"
    assert not (site / "sitemap.xml").exists()
    assert not (site / "feed.xml").exists()
    assert (site / "robots.txt").read_text(encoding="utf-8") == "User-agent: *\nAllow: /\n"
    manifest = json.loads((site / "pith-mirrors.json").read_text(encoding="utf-8"))
    assert manifest["mirrors"][0]["state_pattern"] == "/mirror/pith/{suffix}/state.json"


def test_another_mirror_pulls_from_this_one_through_its_manifest(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    seed_bytes: bytes,
    tmp_path: Path,
) -> None:
    """A site built with base_url / and served statically is a valid pull source via its pith-mirrors.json."""
    states = _papers(new_paper, signing_key, seed_bytes)
    content = make_content(states, keys=[signing_key], site_yaml="title: M\nbase_url: /\n")
    assert run_cli("build", "--content", content, "--out", tmp_path / "site").returncode == 0

    other = make_content({}, keys=[signing_key], name="other")
    ids = [json.loads(data)["pith_number"] for data in states.values()]
    with static_server(tmp_path / "site") as url:
        proc = run_cli("pull", *ids, "--manifest", f"{url}pith-mirrors.json", "--content", other)
    assert proc.returncode == 0, proc.stderr
    assert summary_line(proc.stderr).startswith("summary: 3 pulled, 0 updated, 0 unchanged, 0 error; ")
    assert (other / "states" / "hep-lat_0305021.state.json").read_bytes() == states["old.state.json"]


def test_signing_key_file_holds_the_key_with_the_latest_not_before(tmp_path: Path) -> None:
    """With several trusted keys, /pith-signing-key.json is the one valid from the latest date."""
    older = SigningKey.generate("zz-older").key_document(not_before="2025-01-01T00:00:00Z")
    newer = SigningKey.generate("aa-newer").key_document(not_before="2026-05-01T00:00:00Z")
    registry = json.loads(REGISTRY_KEY_PATH.read_text(encoding="utf-8"))
    keyring = Keyring.of(parse_key(doc, name) for name, doc in [("o", older), ("n", newer), ("r", registry)])
    chosen = current_key(keyring)
    assert chosen is not None and chosen.key_id == "aa-newer"
