"""Synthetic, really signed Pith state files for tests, benchmarks and demos.

Not used by the build. It plays the registry's part: it holds an Ed25519 private
key, builds state files in the real shape (see ``docs/pith-format.md``), and signs
them exactly as the registry does (Ed25519 over the 32 raw digest bytes). Every
derived field (canonical hash, Pith number, short aliases, state hash) is
recomputed with the same pure functions the verifier uses, so a change to a
derivation shows up as a failing test rather than a silently agreeing fixture.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sitegen.pith.canonical import canonical_sha256_hex, sha256_hex, state_sha256_hex, title_canon_sha256_hex
from sitegen.pith.numbers import fingerprint_b32, fingerprint_hex, pith_number, short_forms

__all__ = ["SigningKey", "dump_state", "make_state", "resign_state", "restate_hash"]

State = dict[str, Any]


@dataclass(frozen=True)
class SigningKey:
    """A registry-like signing key; ``generate()`` makes a fresh one, ``from_seed`` a repeatable one."""

    key_id: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, key_id: str = "test-key") -> SigningKey:
        return cls(key_id, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes, key_id: str) -> SigningKey:
        """A key derived from any bytes (hashed to 32), for deterministic corpora."""
        return cls(key_id, Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sha256_hex(seed))))

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def fingerprint_hex(self) -> str:
        return fingerprint_hex(self.public_bytes)

    def sign_b64(self, digest: bytes) -> str:
        return base64.b64encode(self.private.sign(digest)).decode("ascii")

    def key_document(self, **extra: object) -> dict[str, object]:
        """The key in the registry's published ``public_key`` shape."""
        document: dict[str, object] = {
            "key_id": self.key_id,
            "algorithm": "ed25519",
            "format": "raw",
            "public_key_b64": base64.b64encode(self.public_bytes).decode("ascii"),
            "public_key_hex": self.public_bytes.hex(),
            "fingerprint_sha256_hex": self.fingerprint_hex,
            "fingerprint_sha256_b32_first128bits": fingerprint_b32(self.public_bytes),
            "rotates_at": None,
        }
        document.update(extra)
        return document

    def write_key_file(self, directory: Path, **extra: object) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.key_id}.json"
        path.write_text(
            json.dumps(self.key_document(**extra), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        return path


def _signer(key: SigningKey) -> dict[str, str]:
    return {
        "key_id": key.key_id,
        "public_key_fingerprint": key.fingerprint_hex,
        "signer_id": "pith.science",
        "signer_type": "pith_registry",
    }


def restate_hash(state: State) -> State:
    """Recompute ``state_sha256`` after an edit (a tamperer who knows the recipe does this)."""
    state["state_sha256"] = state_sha256_hex(state)
    return state


def resign_state(state: State, key: SigningKey, *, signed_at: str | None = None) -> State:
    """Re-derive every hash, alias and the receipt of ``state`` for its current record, signed by ``key``.

    The record in ``current.record_created.payload.canonical_record`` is the source of
    truth; ``current.canonical_record`` is set equal to it.
    """
    current = state["current"]
    payload = current["record_created"]["payload"]
    record = payload["canonical_record"]
    current["canonical_record"] = copy.deepcopy(record)
    digest_hex = canonical_sha256_hex(record)
    digest = bytes.fromhex(digest_hex)
    year = int(record["metadata"]["submitted_at"][:4])
    number = pith_number(year, digest)
    suffix = number.rsplit(":", 1)[1]
    state["pith_number"] = number
    payload["canonical_sha256"] = digest_hex
    receipt = payload["receipt"]
    receipt.update(
        canonical_sha256=digest_hex,
        key_id=key.key_id,
        public_key_fingerprint=key.fingerprint_hex,
        signature_b64=key.sign_b64(digest),
    )
    if signed_at is not None:
        receipt["signed_at"] = signed_at
    current["record_created"]["signer"] = _signer(key)
    for snapshot in current.get("graph_snapshots", []):
        snapshot["signer"] = _signer(key)
    source = record["source"]
    wanted = {f"pith_short_{n}": v for n, v in short_forms(suffix).items()}
    if source["kind"] == "arxiv":
        wanted.update(
            arxiv=source["id"],
            arxiv_version=f"{source['id']}v{source['version']}",
            doi=f"10.48550/arxiv.{source['id']}",
        )
    for alias in current["source_aliases"]:
        if alias["alias_kind"] in wanted:
            alias["alias_value"] = wanted[alias["alias_kind"]]
    return restate_hash(state)


def make_state(
    template: Mapping[str, Any],
    key: SigningKey,
    *,
    source_id: str,
    version: int = 1,
    title: str,
    authors: list[str],
    submitted_at: str,
    primary_cat: str = "cs.LG",
    cross_cats: list[str] | None = None,
    abstract: str = "",
    findings: list[dict[str, Any]] | None = None,
    claims: list[Any] | None = None,
    references: list[Any] | None = None,
    event_seed: str = "",
) -> State:
    """A new paper's state built on ``template`` (a real state), fully derived and signed."""
    state: State = copy.deepcopy(dict(template))
    current = state["current"]
    payload = current["record_created"]["payload"]
    metadata = payload["canonical_record"]["metadata"]
    metadata.update(
        title_canon_sha256=title_canon_sha256_hex(title),
        abstract_canon_sha256=sha256_hex(abstract.encode("utf-8")),
        submitted_at=submitted_at,
        primary_cat=primary_cat,
        cross_cats_sorted=sorted(cross_cats or []),
    )
    payload["canonical_record"]["source"].update(id=source_id, version=version)
    payload.update(source_id=source_id, source_version=version)
    snapshot = current["graph_snapshots"][0]["payload"]["graph_snapshot"]
    snapshot["paper"].update(
        title=title,
        authors_text=", ".join(authors),
        abstract_excerpt=abstract[:600],
        primary_cat=primary_cat,
        cross_cats=sorted(cross_cats or []),
        submitted_at=submitted_at,
    )
    snapshot["source"].update(id=source_id, version=version)
    integrity = snapshot["integrity"]
    integrity["endpoint"] = f"/pith/{source_id}/integrity.json"
    integrity["findings"] = findings or []
    integrity["clean"] = not findings
    severities = [f.get("severity") for f in findings or []]
    integrity["summary"].update({s: severities.count(s) for s in ("critical", "advisory", "informational")})
    snapshot["claims"].update(count=len(claims or []), items=claims or [])
    snapshot["references"].update(count=len(references or []), sample=(references or [])[:10])
    seed = event_seed or source_id
    ids = [f"sha256:{sha256_hex(f'{seed}/{n}'.encode())}" for n in ("record", "graph")]
    current["record_created"]["event_id"] = ids[0]
    current["graph_snapshots"][0]["event_id"] = ids[1]
    state["applied_event_ids"] = ids
    return resign_state(state, key)


def dump_state(state: Mapping[str, Any]) -> bytes:
    """The bytes of a state file as the registry serves them (compact, key order kept)."""
    return json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
