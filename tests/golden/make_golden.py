"""Regenerate the golden content tree and its expected build: ``make golden``.

The content is the real seed and registry key plus a few states signed with fixed-seed
Ed25519 keys (Ed25519 signatures are deterministic, so every run writes the same bytes):

- ``states/2607.01083.state.json``: the real seed, verified with the real registry key;
- ``states/old-style/hep-lat-0305021.state.json``: an old-style id with a slash, signed by a trusted test key;
- ``states/untrusted.state.json``: signed by a key the site does not trust (unverifiable);
- ``states/tampered.state.json``: license changed after signing, state hash redone (failed);
- ``states/not-json.state.json``: not JSON at all (rejected);
- ``pages/about.md``: a Markdown page.

Commit the regenerated tree together with the code change that caused it, so review sees
the difference in the built HTML and JSON.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sitegen.build.pipeline import build_site
from tests.synth import SigningKey, dump_state, make_state, restate_hash

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONTENT = HERE / "content"
EXPECTED = HERE / "site"
SEED = ROOT / "tests" / "data" / "seed.state.json"
REGISTRY_KEY = ROOT / "content" / "keys" / "pith-v1-2026-05.json"

SITE_YAML = """\
title: Golden mirror
description: The expected build of a small fixed content tree.
base_url: https://mirror.example/golden/
"""

ABOUT = """\
---
title: About the golden mirror
slug: about
order: 1
---
A fixed content tree. See the [verification report](../verification/).
"""


def _key(name: str) -> SigningKey:
    return SigningKey.from_seed(f"pith-sitegen golden key {name}".encode(), name)


def write_content(directory: Path) -> None:
    """Write the golden content tree into ``directory`` (replacing it)."""
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "states" / "old-style").mkdir(parents=True)
    (directory / "keys").mkdir()
    (directory / "pages").mkdir()
    seed: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    trusted, stranger = _key("golden-registry-2026"), _key("golden-stranger-2026")
    shutil.copy(REGISTRY_KEY, directory / "keys" / REGISTRY_KEY.name)
    trusted.write_key_file(directory / "keys")
    common = {"authors": ["Ada Lovelace", "Alan Turing"], "abstract": "We study things <carefully> & well."}
    states = {
        "old-style/hep-lat-0305021.state.json": make_state(
            seed,
            trusted,
            source_id="hep-lat/0305021",
            title="Lattice QCD, old style",
            submitted_at="2003-05-20T09:00:00Z",
            primary_cat="hep-lat",
            **common,
        ),
        "untrusted.state.json": make_state(
            seed,
            stranger,
            source_id="2607.00001",
            title="Signed by a stranger",
            submitted_at="2026-07-02T10:00:00Z",
            **common,
        ),
    }
    tampered = make_state(
        seed,
        trusted,
        source_id="2607.00002",
        title="Edited after signing",
        submitted_at="2026-07-03T11:00:00Z",
        **common,
    )
    tampered["current"]["record_created"]["payload"]["canonical_record"]["metadata"]["license"] = "CC0"
    states["tampered.state.json"] = restate_hash(tampered)
    shutil.copy(SEED, directory / "states" / "2607.01083.state.json")
    for name, state in states.items():
        (directory / "states" / name).write_bytes(dump_state(state))
    (directory / "states" / "not-json.state.json").write_bytes(b"this is not JSON\n")
    (directory / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    (directory / "pages" / "about.md").write_text(ABOUT, encoding="utf-8")


def build_expected(content: Path, out: Path) -> None:
    """Build ``content`` into ``out`` the way the golden test does: afresh, leaving nothing beside it."""
    build_site(content, out, jobs=1, use_cache=False)
    shutil.rmtree(out.with_name(f".{out.name}.spare"), ignore_errors=True)


def main() -> None:
    write_content(CONTENT)
    build_expected(CONTENT, EXPECTED)
    print(f"wrote {CONTENT.relative_to(ROOT)} and {EXPECTED.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
