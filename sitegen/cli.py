"""Command line: argument parsing, per-input lines, summaries and exit codes (layer 6).

Exit status, for every command: 0 when every input is verified; 1 when the command
ran but some input is not verified (or, for ``build``, a Markdown page could not be
used); 2 when it could not run (bad arguments, bad
configuration, unreadable keyring or content directory, unwritable output).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from sitegen import __version__
from sitegen.build import REPORT_NAME, BuildResult, build_site
from sitegen.errors import ConfigError, InputError, ParseError, SitegenError
from sitegen.keys import Keyring
from sitegen.parse import DEFAULT_LIMITS, Limits
from sitegen.report import InputReport, Verdict, printable, report_document
from sitegen.sources import load_keyring
from sitegen.verify import (
    INTEGRITY_SIGNATURE_CHECK,
    SIGNATURE_CHECK,
    check_message,
    rejected_report,
    verify_integrity_bytes,
    verify_state_bytes,
)

__all__ = ["main"]

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_CANNOT_RUN = 2

_LABEL = {
    Verdict.VERIFIED: "verified",
    Verdict.FAILED: "failed",
    Verdict.UNVERIFIABLE: "unverifiable",
    Verdict.REJECTED: "rejected",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_CANNOT_RUN, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m sitegen", description="Verify Pith state files and build a static mirror."
    )
    parser.add_argument("--version", action="version", version=f"pith-sitegen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    verify = commands.add_parser(
        "verify",
        help="check state files (and *integrity.json files) against a keyring",
        description="Check Pith state files, and registry integrity files named integrity.json or "
        "*.integrity.json, against the trusted keys in a keyring directory. Prints one line per "
        "file and a summary; exit 0 when every file is verified, 1 when any is not, 2 when the "
        "command cannot run.",
    )
    verify.add_argument("files", nargs="+", type=Path, metavar="FILE")
    verify.add_argument(
        "--keys", type=Path, default=Path("content/keys"), help="keyring directory (default: content/keys)"
    )
    verify.add_argument("--json", action="store_true", help="print the machine-readable report on stdout")
    verify.add_argument(
        "--max-bytes",
        type=_positive_int,
        default=DEFAULT_LIMITS.max_bytes,
        help=f"refuse files larger than this (default: {DEFAULT_LIMITS.max_bytes})",
    )
    verify.add_argument(
        "--max-depth",
        type=_positive_int,
        default=DEFAULT_LIMITS.max_depth,
        help=f"refuse JSON nested deeper than this (default: {DEFAULT_LIMITS.max_depth})",
    )

    build = commands.add_parser("build", help="verify content/ and render the static site")
    build.add_argument(
        "--content", type=Path, default=Path("content"), help="content directory (default: content)"
    )
    build.add_argument("--out", type=Path, default=Path("_site"), help="output directory (default: _site)")
    build.add_argument("--json", action="store_true", help="print the verification report on stdout")
    build.add_argument("--quiet", action="store_true", help="no progress and no per-input lines")
    build.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    build.add_argument(
        "--strict", action="store_true", help="also exit 1 on warnings (e.g. an alias claimed twice)"
    )
    return parser


def _line(report: InputReport) -> str:
    """``verdict  input  pith number  [failed check ids]``, with untrusted text escaped."""
    head = f"{_LABEL[report.verdict]:<12} {printable(report.input)}"
    if report.pith_number:
        head += f"  {printable(report.pith_number)}"
    failed = report.failed_checks
    if failed:
        head += "  [" + ", ".join(c.id for c in failed) + "]"
    return head


def _summary(counts: dict[str, int], extra: str = "") -> str:
    parts = ", ".join(f"{counts[v.value]} {v.value}" for v in Verdict)
    return f"summary: {parts}{extra}"


def _counts(reports: Sequence[InputReport]) -> dict[str, int]:
    counts = {v.value: 0 for v in Verdict}
    for report in reports:
        counts[report.verdict.value] += 1
    return counts


def _read_input_file(path: Path, limits: Limits) -> bytes:
    """Read a file named on the command line, never more than the size limit allows.

    Raises:
        InputError: missing, not a regular file (a FIFO or device could block), unreadable.
        ParseError: larger than ``limits.max_bytes`` (check ``json.size``).
    """
    if not path.is_file():
        raise InputError(str(path), "not a regular file" if path.exists() else "no such file")
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > limits.max_bytes:
        raise ParseError(
            str(path), "", "json.size", f"file is larger than the limit of {limits.max_bytes} bytes"
        )
    return data


def _is_integrity_file(path: Path) -> bool:
    return path.name == "integrity.json" or path.name.endswith(".integrity.json")


def _verify_file(path: Path, keyring: Keyring, limits: Limits) -> InputReport:
    kind = "integrity" if _is_integrity_file(path) else "state"
    try:
        data = _read_input_file(path, limits)
    except (InputError, ParseError) as exc:
        return rejected_report(str(path), exc, kind)
    if kind == "integrity":
        return verify_integrity_bytes(data, str(path), keyring, limits)[0]
    return verify_state_bytes(data, str(path), keyring, limits)[0]


def _run_verify(args: argparse.Namespace) -> int:
    if not args.keys.is_dir():
        raise ConfigError(
            str(args.keys),
            "",
            "keyring directory does not exist (name one with --keys DIR)",
            check="keys.read",
        )
    keyring = load_keyring(args.keys)
    limits = Limits(max_bytes=args.max_bytes, max_depth=args.max_depth)
    reports: list[InputReport] = []
    human: TextIO = sys.stderr if args.json else sys.stdout
    for path in args.files:
        report = _verify_file(path, keyring, limits)
        reports.append(report)
        print(_line(report), file=human)
        for message in report.errors:
            print(f"    {message}", file=human)
        if report.verdict is Verdict.UNVERIFIABLE:
            for check in report.checks:
                if check.id in (SIGNATURE_CHECK, INTEGRITY_SIGNATURE_CHECK):
                    print(f"    {check_message(report.input, check)}", file=human)
    print(_summary(_counts(reports)), file=human)
    if args.json:
        json.dump(report_document(reports), sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
        sys.stdout.write("\n")
    return EXIT_VERIFIED if all(r.verdict is Verdict.VERIFIED for r in reports) else EXIT_NOT_VERIFIED


class _ProgressLine:
    """A single updating progress line on a terminal; silent elsewhere."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if self.enabled and (done == total or done % 50 == 0):
            self.stream.write(f"\rverifying and rendering {done}/{total} state files")
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _run_build(args: argparse.Namespace) -> int:
    progress = _ProgressLine(sys.stderr, enabled=not args.quiet)
    try:
        result: BuildResult = build_site(args.content, args.out, jobs=args.jobs, progress=progress)
    finally:
        progress.close()
    if not args.quiet:
        for report in sorted(result.reports, key=lambda r: r.input):
            if report.verdict is not Verdict.VERIFIED:
                print(_line(report), file=sys.stderr)
                for message in report.errors:
                    print(f"    {message}", file=sys.stderr)
        for error in sorted(result.errors):
            print(f"error: {error}", file=sys.stderr)
        for warning in sorted(result.warnings):
            print(f"warning: {warning}", file=sys.stderr)
    extra = (
        f"; {len(result.errors)} errors, {len(result.warnings)} warnings; {result.papers} paper pages, "
        f"{result.files_written} files in {args.out} ({result.seconds:.1f} s)"
    )
    print(_summary(result.counts(), extra), file=sys.stderr)
    if args.json:
        sys.stdout.write((args.out / REPORT_NAME).read_text(encoding="utf-8"))
    if not result.all_verified or result.errors or (args.strict and result.warnings):
        return EXIT_NOT_VERIFIED
    return EXIT_VERIFIED


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "verify":
            return _run_verify(args)
        return _run_build(args)
    except SitegenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("interrupted; the previous site is untouched", file=sys.stderr)
        return 130
