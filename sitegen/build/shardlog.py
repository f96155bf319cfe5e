"""The log a sharded build leaves for the merge (layer 5).

``build --shard K/N`` writes its papers' files as a whole build would, but not the
site-wide pages: those need every paper. Instead it writes ``sitegen-shard.jsonl``:
a header naming the shard and a fingerprint of the content it was built from, then
one line per input it owns, in input order, holding exactly what the site-wide step
takes from an input (``StateOutcome``). ``merge.py`` reads the logs of all shards
back into outcomes and runs the same site-wide step a whole build runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sitegen import __version__
from sitegen.build.paper_job import STAGES, StateOutcome, slim_report, summary_from_json, summary_json
from sitegen.errors import InputError
from sitegen.fs.sources import ContentFiles
from sitegen.fs.staging import StagedSite
from sitegen.pith.report import report_from_json
from sitegen.render.templates import compact_json
from sitegen.site.shard import Shard

__all__ = [
    "SHARD_LOG",
    "SHARD_SCHEMA",
    "ShardHeader",
    "ShardLog",
    "content_fingerprint",
    "read_shard_log",
]

SHARD_LOG = "sitegen-shard.jsonl"
SHARD_SCHEMA = "pith-sitegen/shard-log/v3"

ShardHeader = dict[str, Any]


def content_fingerprint(files: ContentFiles) -> str:
    """SHA-256 over what every shard must share: configuration, keys, pages, integrity files, input names.

    State files are named, not read: each shard reads only its own.
    """
    digest = hashlib.sha256(__version__.encode("utf-8"))
    root = files.root
    shared = ["site.yaml"] if (root / "site.yaml").is_file() else []
    keys = root / "keys"
    if keys.is_dir():
        shared += sorted(f"keys/{p.name}" for p in keys.iterdir() if p.is_file())
    for rel in [*shared, *files.pages, *files.integrity]:
        data = (root / rel).read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    for rel in files.states:
        digest.update(f"state\0{rel}\0".encode())
    return digest.hexdigest()


class ShardLog:
    """Writes a shard's log into its staged output, one line per outcome, as they come."""

    def __init__(self, site: StagedSite, shard: Shard, fingerprint: str) -> None:
        self.site = site
        self.handle: IO[bytes] = site.path(PurePosixPath(SHARD_LOG)).open("wb")
        header = {"schema": SHARD_SCHEMA, "shard": str(shard), "content_sha256": fingerprint}
        self.handle.write(compact_json(header) + b"\n")

    def add(self, outcome: StateOutcome) -> None:
        entry = {
            "report": json.loads(outcome.report_line),
            "summary": None if outcome.summary is None else summary_json(outcome.summary),
            "warnings": list(outcome.warnings),
            "manifest": outcome.manifest,
            "files": outcome.files,
            "seconds": list(outcome.seconds),
        }
        self.handle.write(compact_json(entry) + b"\n")

    def close(self) -> None:
        self.handle.close()


def _outcome(entry: dict[str, Any]) -> StateOutcome:
    report_doc = entry["report"]
    return StateOutcome(
        report=slim_report(report_from_json(report_doc)),
        report_line=compact_json(report_doc),
        summary=None if entry["summary"] is None else summary_from_json(entry["summary"]),
        warnings=tuple(entry["warnings"]),
        manifest=entry["manifest"],
        files=entry["files"],
        seconds=tuple(entry["seconds"]) if len(entry["seconds"]) == len(STAGES) else (0.0,) * len(STAGES),
    )


def read_shard_log(shard_dir: Path) -> tuple[ShardHeader, Iterator[tuple[PurePosixPath, StateOutcome]]]:
    """The header of ``shard_dir``'s log, and its outcomes (keyed by input path) as they are read.

    Raises:
        InputError: no log, or a log this version did not write (check ``shard.log``).
    """
    path = shard_dir / SHARD_LOG
    try:
        handle = path.open("rb")
        header = json.loads(handle.readline())
    except (OSError, ValueError) as exc:
        raise InputError(str(path), f"not a shard log: {exc}", check="shard.log") from exc
    if not isinstance(header, dict) or header.get("schema") != SHARD_SCHEMA:
        handle.close()
        raise InputError(str(path), f"not a {SHARD_SCHEMA} log", check="shard.log")

    def outcomes() -> Iterator[tuple[PurePosixPath, StateOutcome]]:
        with handle:
            for number, line in enumerate(handle, start=2):
                try:
                    outcome = _outcome(json.loads(line))
                except (KeyError, TypeError, ValueError) as exc:
                    raise InputError(
                        str(path), f"line {number}: malformed entry: {exc}", check="shard.log"
                    ) from exc
                yield PurePosixPath(outcome.report.input), outcome

    return header, outcomes()
