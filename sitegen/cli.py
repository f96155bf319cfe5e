"""Command line: argument parsing, per-input lines, summaries and exit codes (layer 7).

Exit status, for every command: 0 when every input is verified; 1 when the command
ran but some input is not verified (or, for ``build``, a Markdown page could not be
used); 2 when it could not run (bad arguments, bad
configuration, unreadable keyring or content directory, unwritable output).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TextIO, TypeVar

from sitegen import __version__
from sitegen.build.merge import WITHDRAWN_NAME, merge_shards
from sitegen.build.pipeline import BuildResult, build_site, load_inputs_config
from sitegen.commands.options import FetchOptions, ReadOptions
from sitegen.errors import ConfigError, InputError, OutputError, ParseError, SignatureError, SitegenError
from sitegen.fs.sources import load_keyring, read_named_file
from sitegen.pith.keys import Keyring
from sitegen.pith.parse import DEFAULT_LIMITS, Limits
from sitegen.pith.report import InputReport, Verdict, printable, report_document
from sitegen.pith.sshsig import load_private_key, load_public_key
from sitegen.pith.verify import (
    check_message,
    rejected_report,
    verify_integrity_bytes,
    verify_state_bytes,
)
from sitegen.render.junit import junit_xml
from sitegen.site.config import Publish
from sitegen.site.shard import Shard

__all__ = ["main"]

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_CANNOT_RUN = 2

REGISTRY_MANIFEST = "https://pith.science/pith-mirrors.json"
_Key = TypeVar("_Key")

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
    build.add_argument(
        "--json", action="store_true", help="print the report of every input, with all its checks, on stdout"
    )
    build.add_argument("--quiet", action="store_true", help="no progress and no per-input lines")
    build.add_argument(
        "--jobs", type=int, default=None, help="worker processes (default: one per core, plus one)"
    )
    build.add_argument(
        "--strict", action="store_true", help="also exit 1 on warnings (e.g. an alias claimed twice)"
    )
    build.add_argument(
        "--junit", type=Path, metavar="FILE", help="write a JUnit XML report (one test per input)"
    )
    build.add_argument(
        "--no-cache", action="store_true", help="ignore the incremental cache and render every input afresh"
    )
    build.add_argument(
        "--publish",
        choices=[mode.value for mode in Publish],
        default=None,
        help="swap: replace the whole site at once (default, or site.yaml's publish:); "
        "patch: move a small rebuild's new files into the live site one by one; see docs/deploy.md",
    )
    _add_sign_argument(build)
    build.add_argument(
        "--shard",
        type=_shard,
        default=None,
        metavar="K/N",
        help="build only shard K of N (by Pith suffix) for a later `merge`; see docs/scale.md",
    )

    merge = commands.add_parser("merge", help="merge the outputs of `build --shard K/N` into one site")
    merge.add_argument("shards", nargs="+", type=Path, metavar="SHARD_DIR")
    merge.add_argument(
        "--content", type=Path, default=Path("content"), help="the content the shards were built from"
    )
    merge.add_argument("--out", type=Path, default=Path("_site"), help="output directory (default: _site)")
    merge.add_argument(
        "--json", action="store_true", help="print the report of every input, with all its checks, on stdout"
    )
    merge.add_argument(
        "--overlay",
        action="store_true",
        help="write only what the site-wide step adds to the shards' trees, and the list of their "
        f"files it withdraws ({WITHDRAWN_NAME}); see docs/deploy.md",
    )
    merge.add_argument("--quiet", action="store_true", help="no per-input lines")
    merge.add_argument("--strict", action="store_true", help="also exit 1 on warnings")
    _add_sign_argument(merge)
    _add_operator_commands(commands)
    return parser


def _add_sign_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sign-manifest",
        type=Path,
        metavar="KEY",
        help="sign SHA256SUMS into SHA256SUMS.sig with this unencrypted OpenSSH Ed25519 private key "
        "(the mirror operator's own; `check --operator-key` and `ssh-keygen -Y verify` check it)",
    )


def _key_file(path: Path | None, load: Callable[[bytes], _Key]) -> _Key | None:
    """The operator key in ``path`` (``--sign-manifest``, ``--operator-key``), read before any work starts."""
    if path is None:
        return None
    try:
        return load(path.read_bytes())
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}", check="operator.key") from exc
    except SignatureError as exc:
        raise ConfigError(str(path), "", exc.detail, check="operator.key") from exc


def _shard(text: str) -> Shard:
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_operator_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    serve = commands.add_parser("serve", help="build, serve on 127.0.0.1, rebuild and reload on change")
    serve.add_argument(
        "--content", type=Path, default=Path("content"), help="content directory (default: content)"
    )
    serve.add_argument("--out", type=Path, default=Path("_site"), help="output directory (default: _site)")
    serve.add_argument(
        "--port", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0 picks a free one)"
    )

    pull = commands.add_parser("pull", help="fetch, verify and keep state files from a registry or mirror")
    pull.add_argument("ids", nargs="*", metavar="ID", help="Pith number, short form (8/12/16) or arXiv id")
    source = pull.add_mutually_exclusive_group()
    source.add_argument("--from", dest="base_url", metavar="URL", help="base URL of a registry-like mirror")
    source.add_argument(
        "--manifest",
        metavar="FILE_OR_URL",
        help="a pith-mirrors.json whose state patterns to use (default: the registry's, if neither is given)",
    )
    pull.add_argument("--ids-file", type=Path, metavar="FILE", help="more ids, one a line (# comments)")
    pull.add_argument(
        "--content", type=Path, default=Path("content"), help="content directory (default: content)"
    )
    _add_fetch_arguments(pull)
    pull.add_argument("--retries", type=int, default=2, help="retries after a network failure (default: 2)")
    pull.add_argument(
        "--backoff", type=float, default=1.0, help="seconds before the first retry, doubled after"
    )
    pull.add_argument(
        "--max-bytes",
        type=int,
        default=None,
        help="size limit per file (default: the site's max_state_bytes)",
    )
    pull.add_argument(
        "--concurrency",
        type=int,
        default=8,
        metavar="N",
        help="ids pulled at once, over as many kept-alive connections (default: 8)",
    )

    check = commands.add_parser("check", help="re-verify a built or deployed site (directory or URL)")
    check.add_argument("site", metavar="DIR_OR_URL")
    check.add_argument(
        "--keys",
        type=Path,
        default=Path("content/keys"),
        help="your keyring directory (default: content/keys)",
    )
    _add_fetch_arguments(check)
    check.add_argument(
        "--operator-key",
        type=Path,
        metavar="FILE",
        help="the mirror operator's ssh-ed25519 public key (a .pub or allowed_signers line): "
        "SHA256SUMS.sig must be its signature of SHA256SUMS",
    )
    check.add_argument(
        "--workers", type=int, default=8, help="downloads in flight at once over HTTP (default: 8)"
    )
    check.add_argument(
        "--max-state-bytes",
        type=int,
        default=Limits().max_bytes,
        help=f"size limit of each state.json (default: {Limits().max_bytes})",
    )
    check.add_argument(
        "--max-file-bytes",
        type=int,
        default=ReadOptions().max_file_bytes,
        help=f"size limit of every other file, SHA256SUMS included (default: {ReadOptions().max_file_bytes})",
    )


def _add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    """``--timeout`` and ``--allow-redirect-host``, shared by ``pull`` and ``check``."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="seconds for one whole request: connect, headers, body and redirects together (default: 20)",
    )
    parser.add_argument(
        "--allow-redirect-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also follow redirects to HOST (repeatable; by default only to the same host)",
    )


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


def _is_integrity_file(path: Path) -> bool:
    return path.name == "integrity.json" or path.name.endswith(".integrity.json")


def _verify_file(path: Path, keyring: Keyring, limits: Limits) -> InputReport:
    kind = "integrity" if _is_integrity_file(path) else "state"
    try:
        data = read_named_file(path, limits)
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
            for check in report.reasons:
                print(f"    {check_message(report.input, check)}", file=human)
    print(_summary(_counts(reports)), file=human)
    if args.json:
        json.dump(report_document(reports), sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
        sys.stdout.write("\n")
    return EXIT_VERIFIED if all(r.verdict is Verdict.VERIFIED for r in reports) else EXIT_NOT_VERIFIED


class _ProgressLine:
    """A single updating progress line on a terminal; silent elsewhere, and in CI (``CI`` set).

    ``doing``: what is done to each state file; ``then``: what comes once all are done (the
    site-wide files take a while of their own on a large mirror), or empty.
    """

    def __init__(self, stream: TextIO, enabled: bool, *, doing: str, then: str) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty() and not os.environ.get("CI")
        self.shown = False
        self.doing, self.then = doing, then

    def __call__(self, done: int, total: int) -> None:
        if self.enabled and (done == total or done % 50 == 0):
            after = f"; {self.then}" if done == total and self.then else ""
            self.stream.write(f"\r{self.doing} {done}/{total} state files{after}")
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _build_summary(result: BuildResult, out: Path) -> str:
    extra = (
        f"; {len(result.errors)} errors, {len(result.warnings)} warnings; {result.papers} paper pages; "
        f"{result.rendered} inputs rendered, {result.reused} reused; "
        f"{result.files_written} files written to {out} in {result.seconds:.1f} s"
    )
    return _summary(result.counts(), extra)


def _run_build(args: argparse.Namespace) -> int:
    then = "" if args.shard is not None else "writing the site-wide files"
    progress = _ProgressLine(sys.stderr, enabled=not args.quiet, doing="verifying and rendering", then=then)
    with _full_report(args) as full:
        try:
            result = build_site(
                args.content,
                args.out,
                jobs=args.jobs,
                progress=progress,
                use_cache=not args.no_cache,
                shard=args.shard,
                full_report=full,
                publish=None if args.publish is None else Publish(args.publish),
                sign_with=_key_file(args.sign_manifest, load_private_key),
            )
        finally:
            progress.close()
        note = "" if args.shard is None else f" (shard {args.shard}, site-wide pages at merge)"
        return _finish(args, result, note, full)


def _run_merge(args: argparse.Namespace) -> int:
    progress = _ProgressLine(
        sys.stderr,
        enabled=not args.quiet,
        doing="reading the shards' logs:",
        then="writing the site-wide files",
    )
    with _full_report(args) as full:
        try:
            merged = merge_shards(
                args.shards,
                args.content,
                args.out,
                full_report=full,
                sign_with=_key_file(args.sign_manifest, load_private_key),
                overlay=args.overlay,
                progress=progress,
            )
        finally:
            progress.close()
        return _finish(args, merged, " (an overlay on the shards' trees)" if args.overlay else "", full)


@contextlib.contextmanager
def _full_report(args: argparse.Namespace) -> Iterator[IO[bytes] | None]:
    """Where ``--json`` has the build write the report of every input (a temporary file), or None."""
    if not args.json or getattr(args, "shard", None) is not None:
        yield None
        return
    with tempfile.TemporaryFile() as full:
        yield full


def _finish(args: argparse.Namespace, result: BuildResult, note: str, full: IO[bytes] | None) -> int:
    """Per-input lines, warnings and the summary of a build or merge; its exit code."""
    if not args.quiet:
        for report in result.not_verified():
            print(_line(report), file=sys.stderr)
            for message in report.errors:
                print(f"    {message}", file=sys.stderr)
        for error in sorted(result.errors):
            print(f"error: {error}", file=sys.stderr)
        for warning in sorted(result.warnings):
            print(f"warning: {warning}", file=sys.stderr)
    if result.cache_note:
        print(f"note: {result.cache_note}", file=sys.stderr)
    junit: Path | None = getattr(args, "junit", None)  # merge has no --junit
    if junit is not None:
        data = junit_xml(
            result.reports, result.warnings, result.errors, strict=args.strict, seconds=result.seconds
        )
        try:
            junit.write_bytes(data)
        except OSError as exc:
            raise OutputError(f"{junit}: cannot write the JUnit report: {exc.strerror}") from exc
    print(_build_summary(result, args.out) + note, file=sys.stderr)
    if full is not None:
        full.seek(0)
        sys.stdout.flush()
        shutil.copyfileobj(full, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    if not result.all_verified or result.errors or (args.strict and result.warnings):
        return EXIT_NOT_VERIFIED
    return EXIT_VERIFIED


def _run_serve(args: argparse.Namespace) -> int:
    from sitegen.commands.serve import SiteServer, Stop, stop_on_signals

    def report(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        server = SiteServer(args.content, args.out, port=args.port, report=report)
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    try:
        with server, stop_on_signals():
            server.start_watching()
            if server.build() is None:
                return EXIT_CANNOT_RUN
            report(
                f"serving {server.url} (rebuilds when {args.content} or the templates change; "
                "Ctrl-C or SIGTERM stops)"
            )
            server.run()
    except Stop as stop:
        report(
            f"stopped by {stop.signal_name}: closed the server at {server.url} and the watcher "
            f"(builds: {server.generation})"
        )
    return EXIT_VERIFIED


def _pull_sources(args: argparse.Namespace) -> list[str]:
    from sitegen.commands.http import FetchError, fetch_url
    from sitegen.commands.pull import sources_from_base, sources_from_manifest

    if args.base_url is not None:
        return sources_from_base(args.base_url)
    location = args.manifest or REGISTRY_MANIFEST
    if location.startswith(("http://", "https://")):
        try:
            data = fetch_url(location, _fetch_options(args, Limits().max_bytes))
        except FetchError as exc:
            raise InputError(location, f"cannot fetch the manifest: {exc}", check="pull.manifest") from exc
    else:
        try:
            data = Path(location).read_bytes()
        except OSError as exc:
            raise InputError(
                location, f"cannot read the manifest: {exc.strerror}", check="pull.manifest"
            ) from exc
    return sources_from_manifest(data, location)


def _run_pull(args: argparse.Namespace) -> int:
    from sitegen.commands.pull import PullOptions, PullTally, ValidatorStore, pull_all, read_ids_file

    ids = list(args.ids) + (read_ids_file(args.ids_file) if args.ids_file is not None else [])
    if not ids:
        print("error: no ids: give ID arguments or --ids-file", file=sys.stderr)
        return EXIT_CANNOT_RUN
    config, keyring = load_inputs_config(args.content)
    max_bytes = args.max_bytes if args.max_bytes is not None else config.limits.max_bytes
    options = PullOptions(
        fetch=_fetch_options(args, max_bytes),
        retries=max(0, args.retries),
        backoff=args.backoff,
        concurrency=max(1, args.concurrency),
    )
    sources = _pull_sources(args)
    tally = PullTally(total=len(ids))
    progress = _PullProgress(sys.stderr)
    started = time.monotonic()
    store = ValidatorStore(args.content / PULL_CACHE)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        for result in pull_all(ids, sources, keyring, args.content / "states", options, store):
            tally.add(result)
            if not result.not_modified:
                where = f" -> {result.path}" if result.path is not None else ""
                progress.print(
                    f"{result.status:<10} {printable(result.id)}{where}: {printable(result.detail)}"
                )
            progress.update(tally.progress())
    except KeyboardInterrupt:
        progress.print(
            f"interrupted after {tally.done} of {tally.total} ids: every state written is whole "
            "(those in flight were finished and kept); pull again to go on (what was fetched comes back as not modified)"
        )
        progress.print("summary: " + tally.summary(time.monotonic() - started))
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        store.close()
    progress.print("summary: " + tally.summary(time.monotonic() - started))
    return EXIT_NOT_VERIFIED if tally.by_status["error"] else EXIT_VERIFIED


PULL_CACHE = ".pull-cache.sqlite"
"""Where ``pull`` remembers each source URL's validators, inside the content directory."""


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends ``pull`` as Ctrl-C does: the ids in flight finish and what they answered is kept."""
    raise KeyboardInterrupt


class _PullProgress:
    """Pull's counts on one terminal line rewritten in place (at most ten times a second); nothing
    elsewhere, nor in CI (``CI`` set). ``print`` writes the lines that stay, above it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty() and not os.environ.get("CI")
        self._shown = False
        self._last = 0.0

    def update(self, text: str) -> None:
        now = time.monotonic()
        if self._live and now - self._last >= 0.1:
            self._stream.write(f"\r\x1b[K{text}")
            self._stream.flush()
            self._shown, self._last = True, now

    def print(self, line: str) -> None:
        """A line of its own, above the progress line (which is cleared and shown again by ``update``)."""
        if self._shown:
            self._stream.write("\r\x1b[K")
            self._shown, self._last = False, 0.0
        print(line, file=self._stream)


def _fetch_options(args: argparse.Namespace, max_bytes: int) -> FetchOptions:
    return FetchOptions(timeout=args.timeout, max_bytes=max_bytes, allow_redirect_hosts=_redirect_hosts(args))


def _redirect_hosts(args: argparse.Namespace) -> frozenset[str]:
    return frozenset(host.strip().lower() for host in args.allow_redirect_host)


def _run_check(args: argparse.Namespace) -> int:
    from sitegen.commands.check import check_site

    keyring = load_keyring(args.keys)
    options = ReadOptions(
        timeout=args.timeout,
        max_state_bytes=args.max_state_bytes,
        max_file_bytes=args.max_file_bytes,
        allow_redirect_hosts=_redirect_hosts(args),
        workers=args.workers,
    )
    result = check_site(
        args.site, keyring, options, operator_key=_key_file(args.operator_key, load_public_key)
    )
    for problem in result.problems:
        print(f"FAIL {printable(str(problem))}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(
        f"summary: {result.files} files checked against SHA256SUMS (sha256 {result.manifest_sha256}), "
        f"{result.papers} papers re-verified, {result.links} internal links; {len(result.problems)} problems",
        file=sys.stderr,
    )
    return EXIT_NOT_VERIFIED if result.problems else EXIT_VERIFIED


_COMMANDS = {
    "build": _run_build,
    "merge": _run_merge,
    "serve": _run_serve,
    "pull": _run_pull,
    "check": _run_check,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "verify":
            return _run_verify(args)
        return _COMMANDS[args.command](args)
    except SitegenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("interrupted; the previous site is untouched", file=sys.stderr)
        return 130
