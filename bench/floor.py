"""The floor: the least work any verifying generator must do per paper, in a tight loop.

``python -m bench.floor CONTENT OUT COUNT [--jobs J]`` takes the first state
file of CONTENT and, COUNT times split over J processes, does for it what cannot be
avoided: the strict parse, the canonical record hash and the state hash, the Ed25519
signature check, one render of the real paper page (``paper_page``: its Python-made
values and the Jinja template), and the writes of the paper's whole file set (the same
files and directories a build writes for that paper, learned from one real
``process_state``), each copy in its own directory under OUT, each file created with
one ``os.open``. Discovery, reports, summaries, the site-wide pages, the process pool's
messages and the staging swap are left out; so are the other checks, the JSON
endpoints' encoding and the redirect pages' filling-in (their bytes are computed once).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

from sitegen.build import paper_job as paper_module
from sitegen.build.paper_job import PaperContext, paper_page, process_state
from sitegen.build.pipeline import load_inputs_config, usable_cores
from sitegen.fs.sources import discover, read_input
from sitegen.pith.parse import parse_state
from sitegen.pith.report import Status
from sitegen.pith.verify import check_canonical_sha256, check_ed25519, check_state_sha256
from sitegen.render.templates import Renderer

__all__ = ["main", "run_floor"]


class _Paper:
    """One paper's input bytes, its written file set and the paper page's render call."""

    def __init__(self, content: Path) -> None:
        config, keyring = load_inputs_config(content)
        files = discover(content)
        self.name = str(files.states[0])
        self.data = read_input(files.root, files.states[0], config.limits)
        self.renderer = Renderer(config)
        with tempfile.TemporaryDirectory() as scratch:
            ctx = PaperContext(
                content_root=files.root, out_root=Path(scratch), config=config, keyring=keyring
            )
            with mock.patch.object(paper_module, "paper_page", side_effect=paper_module.paper_page) as page:
                outcome = process_state(ctx, files.states[0])
            assert outcome is not None and outcome.summary is not None, "the floor needs a paper that builds"
            self.files = [
                (p.relative_to(scratch).as_posix(), p.read_bytes())
                for p in sorted(Path(scratch).rglob("*"))
                if p.is_file()
            ]
        (call,) = page.call_args_list
        _, self.config, self.page_dir = call.args
        self.context: dict[str, Any] = dict(call.kwargs)
        receipt = parse_state(self.data, self.name).state.receipt
        key = keyring.get(receipt.key_id)
        assert key is not None, "the floor's paper must be signed by a trusted key"
        self.key = key


def _loop(paper: _Paper, out: Path, first: int, count: int) -> None:
    page_file = f"{paper.page_dir}/index.html"
    for number in range(first, first + count):
        parsed = parse_state(paper.data, paper.name)
        _, digest_hex = check_canonical_sha256(parsed.raw, parsed.state)
        check_state_sha256(parsed.raw, parsed.state)
        status, reason = check_ed25519(
            paper.key, bytes.fromhex(digest_hex), parsed.state.receipt.signature_b64
        )
        assert status is Status.VERIFIED, reason
        html = paper_page(paper.renderer, paper.config, paper.page_dir, **paper.context)
        base = f"{out}/{number:08d}"
        made: set[str] = set()
        for rel, data in paper.files:
            path = f"{base}/{rel}"
            directory = os.path.dirname(path)
            if directory not in made:
                os.makedirs(directory, exist_ok=True)
                made.add(directory)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            try:
                os.write(fd, html if rel == page_file else data)
            finally:
                os.close(fd)


def run_floor(content: Path, out: Path, count: int, jobs: int) -> float:
    """Run the floor loop ``count`` times over ``jobs`` processes; returns the seconds the loop took."""
    paper = _Paper(content)
    out.mkdir(parents=True, exist_ok=True)
    share, extra = divmod(count, jobs)
    spans, first = [], 0
    for job in range(jobs):
        size = share + (1 if job < extra else 0)
        spans.append((first, size))
        first += size
    started = time.perf_counter()
    if jobs == 1:
        _loop(paper, out, 0, count)
    else:
        context = multiprocessing.get_context("fork")
        workers = [context.Process(target=_loop, args=(paper, out, a, n)) for a, n in spans]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
            if worker.exitcode != 0:
                raise RuntimeError(f"floor worker exited with {worker.exitcode}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("content", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--jobs", type=int, default=usable_cores())
    args = parser.parse_args(argv)
    seconds = run_floor(args.content, args.out, args.count, args.jobs)
    print(f"floor: {args.count} papers in {seconds:.2f} s with {args.jobs} processes ({os.getpid()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
