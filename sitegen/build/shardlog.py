"""The log a sharded build leaves for the merge (layer 5).

``build --shard K/N`` writes its papers' files as a whole build would, but not the
site-wide pages: those need every paper. Instead it writes ``sitegen-shard.jsonl``:
a header naming the shard and a fingerprint of the content it was built from, then
one line per input it owns, in input order, holding exactly what the site-wide step
takes from an input (``StateOutcome``). ``merge.py`` reads the logs of all shards
back into outcomes and runs the same site-wide step a whole build runs.

An input's line is its full report line as the build wrote it, a tab, and a JSON object
with the rest. Compact JSON holds no raw tab, so the merge takes the report's bytes as
they are, and decodes a verified input's report only for the five fields of its slim
report (``paper_job.slim_report``), not into its checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

import orjson

from sitegen import __version__
from sitegen.build.paper_job import STAGES, StateOutcome, slim_report, summary_from_json, summary_json
from sitegen.errors import BuildError, InputError
from sitegen.fs.sources import ContentFiles
from sitegen.fs.staging import StagedSite
from sitegen.pith.report import InputReport, Verdict, report_from_json
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
SHARD_SCHEMA = "pith-sitegen/shard-log/v4"

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
        """Log one outcome: its report line, a tab, the rest.

        Raises:
            BuildError: the report line is not one line of compact JSON (it holds a tab or a newline).
        """
        if b"\t" in outcome.report_line or b"\n" in outcome.report_line:
            raise BuildError(f"{outcome.report.input}: its report line is not compact JSON; not logged")
        entry = {
            "summary": None if outcome.summary is None else summary_json(outcome.summary),
            "warnings": list(outcome.warnings),
            "manifest": outcome.manifest,
            "files": outcome.files,
            "seconds": list(outcome.seconds),
        }
        self.handle.write(outcome.report_line + b"\t" + compact_json(entry) + b"\n")

    def close(self) -> None:
        self.handle.close()


def _outcome(line: bytes) -> StateOutcome:
    report_line, tab, rest = line.rstrip(b"\n").partition(b"\t")
    if not tab:
        raise ValueError("no tab after the report")
    report_doc = orjson.loads(report_line)
    entry = orjson.loads(rest)
    return StateOutcome(
        report=_slim(report_doc),
        report_line=report_line,
        summary=None if entry["summary"] is None else summary_from_json(entry["summary"]),
        warnings=tuple(entry["warnings"]),
        manifest=entry["manifest"],
        files=entry["files"],
        seconds=tuple(entry["seconds"]) if len(entry["seconds"]) == len(STAGES) else (0.0,) * len(STAGES),
    )


def _slim(doc: dict[str, Any]) -> InputReport:
    """The slim report of a logged report (``slim_report``), its checks decoded only when it
    keeps some: a verified input's report keeps none."""
    verified = doc["status"] == Verdict.VERIFIED.value
    return slim_report(report_from_json({**doc, "checks": []} if verified else doc))


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
                    outcome = _outcome(line)
                except (KeyError, TypeError, ValueError) as exc:
                    raise InputError(
                        str(path), f"line {number}: malformed entry: {exc}", check="shard.log"
                    ) from exc
                yield PurePosixPath(outcome.report.input), outcome

    return header, outcomes()
