"""Build the hostile corpus in ``tests/hostile/content/`` from the real seed (run ``make hostile``).

Every case is a state file named after what makes it hostile, with the verdict the build
must give it (``EXPECTED``, also written to ``expected.json`` and ``README.md``). Cases that
need a valid signature are signed with a test key derived from a fixed seed, so the output
is byte-identical on every run; a test fails if the committed files drift from this script.
Cases a git checkout cannot carry portably (symlinks, FIFOs, undecodable or case-only-different
file names) are added at test time by ``add_filesystem_cases``.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.synth import SigningKey, dump_state, make_state, resign_state, restate_hash

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SEED_PATH = ROOT / "tests" / "data" / "seed.state.json"
REGISTRY_KEY = ROOT / "content" / "keys" / "pith-v1-2026-05.json"
KEY = SigningKey.from_seed(b"pith-sitegen hostile corpus", "hostile-test-key")
HOSTILE = '<script>alert("x")</script> "><img src=x onerror=alert(1)> </script> \u202eevil\u202c \x07'

SITE_YAML = """\
# The hostile corpus: tighter limits than the defaults, so the over-limit cases stay small.
title: Hostile corpus <script>alert(1)</script>
limits:
  max_state_bytes: 65536
  max_string_chars: 20000
  max_aliases: 64
"""

State = dict[str, Any]
Case = tuple[str, str, str, Callable[[State], bytes]]
"""(file stem, expected verdict, what it is, builder from a fresh copy of the seed)."""


def _signed(seed: State, source_id: str, title: str = "A hostile corpus paper", **kwargs: Any) -> State:
    kwargs.setdefault("authors", ["Mallory Example", "Eve Example"])
    kwargs.setdefault("submitted_at", "2026-07-01T00:00:00Z")
    return make_state(seed, KEY, source_id=source_id, title=title, **kwargs)


def _snapshot(state: State) -> dict[str, Any]:
    snapshot: dict[str, Any] = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]
    return snapshot


def _json(state: State) -> bytes:
    return dump_state(state)


def seed_unchanged(seed: State) -> bytes:
    return SEED_PATH.read_bytes()


def signed_hostile_strings(seed: State) -> bytes:
    finding = {"detector": HOSTILE, "severity": HOSTILE, "note": HOSTILE, "detected_doi": HOSTILE}
    state = _signed(
        seed,
        "2607.90001",
        title=f"{HOSTILE} title",
        authors=[HOSTILE, "B. Author"],
        abstract=HOSTILE,
        findings=[finding],
        claims=[{"text": HOSTILE}],
        references=[{"title": HOSTILE, "doi": HOSTILE, "arxiv_id": HOSTILE}],
    )
    snapshot = _snapshot(state)
    snapshot["paper"]["headline"] = HOSTILE
    snapshot["verdict"]["one_line_summary"] = HOSTILE
    state["current"]["source_aliases"].append(
        {"alias_kind": HOSTILE, "alias_value": HOSTILE, "created_at": ""}
    )
    state["current"]["record_created"]["payload"]["canonical_record"]["metadata"]["license"] = (
        "javascript:alert(1)"
    )
    return _json(resign_state(state, KEY))


def receipt_signature_flipped_bit(seed: State) -> bytes:
    receipt = seed["current"]["record_created"]["payload"]["receipt"]
    signature = bytearray(base64.b64decode(receipt["signature_b64"]))
    signature[0] ^= 1
    receipt["signature_b64"] = base64.b64encode(bytes(signature)).decode("ascii")
    return _json(restate_hash(seed))


def title_changed_rehashed(seed: State) -> bytes:
    _snapshot(seed)["paper"]["title"] = "A different title"
    return _json(restate_hash(seed))


def unknown_key_id(seed: State) -> bytes:
    return _json(resign_state(seed, SigningKey.from_seed(b"untrusted", "untrusted-key")))


def duplicate_json_key(seed: State) -> bytes:
    data = SEED_PATH.read_bytes()
    return data.replace(b'"state_type":', b'"state_type":"x","state_type":', 1)


def nan_value(seed: State) -> bytes:
    return SEED_PATH.read_bytes().replace(b'"event_count":2', b'"event_count":NaN', 1)


def huge_integer(seed: State) -> bytes:
    return SEED_PATH.read_bytes().replace(b'"event_count":2', b'"event_count":' + b"9" * 5000, 1)


def deep_nesting(seed: State) -> bytes:
    return b'{"state_type":' + b"[" * 10_000 + b"]" * 10_000 + b"}"


def over_size_limit(seed: State) -> bytes:
    return SEED_PATH.read_bytes() + b" " * 65536


def too_many_aliases(seed: State) -> bytes:
    aliases = seed["current"]["source_aliases"]
    aliases += [
        {"alias_kind": "mirror", "alias_value": f"m{i}", "created_at": ""} for i in range(65 - len(aliases))
    ]
    return _json(restate_hash(seed))


def string_over_limit(seed: State) -> bytes:
    _snapshot(seed)["paper"]["authors_text"] = "A" * 20001
    return _json(restate_hash(seed))


def utf16_encoded(seed: State) -> bytes:
    return SEED_PATH.read_text(encoding="utf-8").encode("utf-16")


def byte_order_mark(seed: State) -> bytes:
    return b"\xef\xbb\xbf" + SEED_PATH.read_bytes()


def lone_surrogate(seed: State) -> bytes:
    return SEED_PATH.read_bytes().replace(b'"title":"', b'"title":"\\ud800', 1)


def truncated(seed: State) -> bytes:
    return SEED_PATH.read_bytes()[:1000]


def not_an_object(seed: State) -> bytes:
    return b"[]"


def record_version_as_string(seed: State) -> bytes:
    seed["current"]["record_created"]["payload"]["canonical_record"]["source"]["version"] = "1"
    return _json(restate_hash(seed))


def alias_path_traversal(seed: State) -> bytes:
    state = _signed(seed, "2607.90002")
    for alias in state["current"]["source_aliases"]:
        if alias["alias_kind"] in ("doi", "arxiv"):
            alias["alias_value"] = "../../../../escape"
    return _json(restate_hash(state))


def pith_number_path_traversal(seed: State) -> bytes:
    seed["pith_number"] = "pith:2026:../../../../escape"
    return _json(restate_hash(seed))


def integrity_endpoint_traversal(seed: State) -> bytes:
    state = _signed(seed, "2607.90003")
    _snapshot(state)["integrity"]["endpoint"] = "/pith/../../../escape/integrity.json"
    return _json(restate_hash(state))


def doi_case_collision_lower(seed: State) -> bytes:
    return _json(_signed(seed, "hep-th/9901001", title="Lower-case twin"))


def doi_case_collision_upper(seed: State) -> bytes:
    return _json(_signed(seed, "HEP-TH/9901001", title="Upper-case twin"))


def odd_file_name(seed: State) -> bytes:
    return _json(_signed(seed, "2607.90004", title="Filed under an odd name"))


CASES: list[Case] = [
    ("seed_unchanged", "verified", "the real seed, signed by the real registry key", seed_unchanged),
    (
        "signed_hostile_strings",
        "verified",
        "script tags, attribute breakouts, `</script>`, bidi and control characters in every displayed field; "
        "a javascript: license; correctly signed",
        signed_hostile_strings,
    ),
    (
        "receipt_signature_flipped_bit",
        "failed",
        "one bit of the receipt signature flipped",
        receipt_signature_flipped_bit,
    ),
    (
        "title_changed_rehashed",
        "failed",
        "title edited and the state hash recomputed",
        title_changed_rehashed,
    ),
    ("unknown_key_id", "unverifiable", "signed by a key the site does not trust", unknown_key_id),
    ("duplicate_json_key", "rejected", "state_type appears twice in one object", duplicate_json_key),
    ("nan_value", "rejected", "NaN where an integer belongs (not JSON)", nan_value),
    ("huge_integer", "rejected", "a 5,000-digit integer", huge_integer),
    ("deep_nesting", "rejected", "10,000 nested lists", deep_nesting),
    ("over_size_limit", "rejected", "larger than limits.max_state_bytes (64 KiB here)", over_size_limit),
    ("too_many_aliases", "rejected", "65 aliases, over limits.max_aliases", too_many_aliases),
    (
        "string_over_limit",
        "rejected",
        "a 20,001-character author list, over limits.max_string_chars",
        string_over_limit,
    ),
    ("utf16_encoded", "rejected", "UTF-16 instead of UTF-8", utf16_encoded),
    ("byte_order_mark", "rejected", "a UTF-8 byte order mark", byte_order_mark),
    ("lone_surrogate", "rejected", "a \\ud800 escape in the title", lone_surrogate),
    ("truncated", "rejected", "the first 1,000 bytes of the seed", truncated),
    ("not_an_object", "rejected", "a JSON list at the top", not_an_object),
    ("record_version_as_string", "rejected", 'source.version is the string "1"', record_version_as_string),
    (
        "alias_path_traversal",
        "failed",
        "arXiv and DOI aliases ../../../../escape (no redirect may be written)",
        alias_path_traversal,
    ),
    (
        "pith_number_path_traversal",
        "failed",
        "pith_number pith:2026:../../../../escape (no page may be written)",
        pith_number_path_traversal,
    ),
    (
        "integrity_endpoint_traversal",
        "verified",
        "a snapshot's integrity endpoint /pith/../../../escape/integrity.json (unsigned, so not served)",
        integrity_endpoint_traversal,
    ),
    (
        "doi_case_collision_lower",
        "verified",
        "DOI and arXiv aliases that differ only in case from the next case: both paths get a collision page",
        doi_case_collision_lower,
    ),
    (
        "doi_case_collision_upper",
        "verified",
        "the upper-case twin of the previous case",
        doi_case_collision_upper,
    ),
    (
        "odd name & 'quoted' é 名前",
        "verified",
        "a file name with spaces, quotes, & and non-ASCII",
        odd_file_name,
    ),
]

FILESYSTEM_CASES: list[tuple[str, str, str]] = [
    ("states/escape_symlink.state.json", "rejected", "a symlink to a state file outside content/"),
    ("states/pipe.state.json", "rejected", "a FIFO (never opened: it would block the build)"),
    ("states/bad\\xff.state.json", "rejected", "a file name that is not UTF-8"),
    ("states/two\\x0alines.state.json", "rejected", "a file name with a newline"),
    ("states/Case_Twin.state.json", "verified", "differs only in case from the next file"),
    ("states/case_twin.state.json", "verified", "differs only in case from the previous file"),
    ("pages/escape.md", "warning", "a Markdown page symlinked outside content/"),
]
"""(input as reported, expected verdict, what it is) for the cases ``add_filesystem_cases`` makes."""


def write_corpus(dest: Path) -> None:
    """Write the portable cases, the keys, site.yaml, expected.json and README.md under ``dest``."""
    seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    content = dest / "content"
    if content.exists():
        shutil.rmtree(content)
    (content / "states").mkdir(parents=True)
    (content / "keys").mkdir()
    shutil.copy(REGISTRY_KEY, content / "keys" / REGISTRY_KEY.name)
    KEY.write_key_file(content / "keys")
    (content / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    for stem, _, _, build in CASES:
        (content / "states" / f"{stem}.state.json").write_bytes(build(copy.deepcopy(seed)))
    expected = {f"states/{stem}.state.json": verdict for stem, verdict, _, _ in CASES}
    expected.update({name: verdict for name, verdict, _ in FILESYSTEM_CASES})
    (dest / "expected.json").write_text(
        json.dumps(expected, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (dest / "README.md").write_text(_readme(), encoding="utf-8")


def add_filesystem_cases(content: Path, outside: Path) -> None:
    """Add the cases git cannot carry portably to a copy of the corpus; ``outside`` is beside it."""
    outside.mkdir(exist_ok=True)
    shutil.copy(SEED_PATH, outside / "seed.state.json")
    (outside / "page.md").write_text("---\ntitle: Outside\nslug: outside\n---\nsecret\n", encoding="utf-8")
    states = content / "states"
    (states / "escape_symlink.state.json").symlink_to(outside / "seed.state.json")
    os.mkfifo(states / "pipe.state.json")
    Path(os.fsdecode(os.fsencode(states) + b"/bad\xff.state.json")).write_bytes(SEED_PATH.read_bytes())
    (states / "two\nlines.state.json").write_bytes(SEED_PATH.read_bytes())
    seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    (states / "Case_Twin.state.json").write_bytes(
        _json(_signed(copy.deepcopy(seed), "2607.90005", title="Twin A"))
    )
    (states / "case_twin.state.json").write_bytes(
        _json(_signed(copy.deepcopy(seed), "2607.90006", title="Twin B"))
    )
    (content / "pages").mkdir(exist_ok=True)
    (content / "pages" / "escape.md").symlink_to(outside / "page.md")


def _readme() -> str:
    lines = [
        "# Hostile corpus",
        "",
        "Generated by `make_hostile.py` from the real seed (`make hostile`; do not edit by hand).",
        "Cases that need a valid signature are signed with `hostile-test-key`, an Ed25519 key",
        "derived from a fixed seed; its public key is in `content/keys/`. `site.yaml` tightens",
        "`limits:` so the over-limit cases stay small. `tests/hostile/test_hostile_corpus.py`",
        "builds it end to end, checks every verdict below and that nothing is written outside",
        "the output directory.",
        "",
        "The failed and unverifiable cases derived from the seed keep its Pith number, so their",
        "page and alias paths collide with the seed's: every such path gets a collision page",
        "listing all claimants (neither wins), and the build warns about each.",
        "",
        "| input | expected | what it is |",
        "|---|---|---|",
    ]
    lines += [f"| `states/{stem}.state.json` | {verdict} | {what} |" for stem, verdict, what, _ in CASES]
    lines += [
        "",
        "Added at test time (symlinks, FIFOs and such names do not travel well in git):",
        "",
        "| input | expected | what it is |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {verdict} | {what} |" for name, verdict, what in FILESYSTEM_CASES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    write_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
