"""Coverage-guided fuzz target (atheris, i.e. libFuzzer) for the state loader, verifier and per-paper build.

Run it with ``make fuzz`` (which installs atheris into ``.venv`` for this target only;
``FUZZ_SECONDS=600 make fuzz`` runs longer). Each input is written as a state file and
goes through ``process_state``: read, strict parse, every check, rendering of the paper
page and endpoints, writing them. The contract is the one the hypothesis tests check:
one of the four verdicts, a message for anything failed or rejected, a report that
encodes as UTF-8, and no exception. libFuzzer keeps a crashing input in
``_fuzz/crashes/``; turn it into an ``@example`` in ``tests/property/test_fuzz_state.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path, PurePosixPath

import atheris

with atheris.instrument_imports(include=["sitegen"]):
    from sitegen.site.config import SiteConfig
    from sitegen.build.paper_job import PaperContext, process_state
    from sitegen.pith.report import Verdict
    from sitegen.fs.sources import load_keyring

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="sitegen-fuzz-"))
(WORK / "content" / "states").mkdir(parents=True)
(WORK / "out").mkdir()
CONTEXT = PaperContext(
    content_root=WORK / "content",
    out_root=WORK / "out",
    config=SiteConfig(),
    keyring=load_keyring(ROOT / "content" / "keys"),
)
INPUT = PurePosixPath("states/fuzz.state.json")


def test_one_input(data: bytes) -> None:
    """One input through the whole per-paper path; raise only when the contract is broken."""
    (CONTEXT.content_root / INPUT).write_bytes(data)
    outcome = process_state(CONTEXT, INPUT)
    report = outcome.report
    if report.verdict not in set(Verdict):
        raise AssertionError(f"unknown verdict {report.verdict!r}")
    if report.verdict in (Verdict.FAILED, Verdict.REJECTED) and not all(report.errors or [""]):
        raise AssertionError(f"{report.verdict.value} without a message")
    outcome.report_line.decode("utf-8")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
