"""Amplifier corpora: signed states built to make the build's output and memory large, and their clean twins.

``python -m bench.amplify N WORKDIR`` writes two corpora of N really signed papers each
under WORKDIR (``hostile/`` and ``clean/``), builds each with ``python -m sitegen build``
in a fresh process through ``bench.measure``, and prints the peak RSS of both builds,
their ratio, and the output bytes per input byte of each.

An amplifier state stays within the default ``limits:`` and makes the most of each
one: a title of ``TITLE_CHARS`` ``<`` (each escaped to four or six bytes wherever the
title is shown), ``max_aliases`` aliases that all derive from the record (so all are
routed: many repeats of the six real ones), and an author list of ``AUTHOR_CHARS``
characters of distinct made-up words (each a new search term). A clean paper is a
``bench.corpus`` paper: realistic in size and shape.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus import bench_key, load_template, paper_bytes, state_name
from sitegen.pith.parse import DEFAULT_LIMITS
from tests.synth import SigningKey, dump_state, make_state, resign_state

__all__ = [
    "AUTHOR_CHARS",
    "TITLE_CHARS",
    "Measured",
    "amplifier_authors",
    "amplifier_bytes",
    "distinct_words",
    "main",
    "write_corpus",
]

TITLE_CHARS = DEFAULT_LIMITS.max_string_chars - 1_000
"""Characters of an amplifier's title: all ``<``, just within ``limits.max_string_chars``."""
AUTHOR_CHARS = DEFAULT_LIMITS.max_string_chars - 1_000
"""Characters of an amplifier's author list: distinct words, just within ``limits.max_string_chars``."""
_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def distinct_words(seed: str) -> Iterator[str]:
    """Made-up words of ten lower-case letters, none repeated (for one ``seed``) and none a real word."""
    for number in itertools.count():
        digest = hashlib.sha256(f"{seed}/{number}".encode()).hexdigest()
        yield digest[:10].translate(_LETTERS)


def amplifier_authors(seed: str) -> list[str]:
    """Authors of two distinct made-up words each, ``AUTHOR_CHARS`` characters at most once joined by ``, ``."""
    authors: list[str] = []
    length = -2
    words = distinct_words(seed)
    while True:
        author = f"{next(words)} {next(words)}"
        length += len(author) + 2
        if length > AUTHOR_CHARS:
            return authors
        authors.append(author)


def amplifier_bytes(template: dict[str, Any], key: SigningKey, index: int) -> bytes:
    """The bytes of amplifier paper ``index``: a title of ``<``, every alias repeated, distinct author words."""
    state = make_state(
        template,
        key,
        source_id=f"2601.{index:05d}",
        title="<" * TITLE_CHARS,
        authors=amplifier_authors(f"amplifier/{index}"),
        submitted_at="2026-01-15T12:00:00Z",
        event_seed=f"amplifier/{index}",
    )
    aliases = state["current"]["source_aliases"]
    real = list(aliases)
    while len(aliases) < DEFAULT_LIMITS.max_aliases:
        aliases.append(copy.deepcopy(real[len(aliases) % len(real)]))
    return dump_state(resign_state(state, key))


def write_corpus(directory: Path, count: int, *, hostile: bool) -> int:
    """Write ``count`` papers (amplifiers or clean ones) into ``directory``; returns the bytes of the state files."""
    template, key = load_template(), bench_key(1)
    key.write_key_file(directory / "keys")
    (directory / "site.yaml").write_text("title: Amplifier mirror\nbase_url: /\n", encoding="utf-8")
    total = 0
    for index in range(count):
        data = amplifier_bytes(template, key, index) if hostile else paper_bytes(template, key, index, 1)
        path = directory / state_name(index)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
    return total


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """One corpus's build: its input and output bytes, exit code and peak RSS (largest process, MB)."""

    input_bytes: int
    output_bytes: int
    returncode: int
    peak_rss_mb: float
    tree_rss_mb: float


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _measure(work: Path, name: str, count: int) -> Measured:
    content, out, result = work / name, work / f"{name}-site", work / f"{name}.json"
    input_bytes = write_corpus(content, count, hostile=name == "hostile")
    build = [
        sys.executable,
        "-m",
        "sitegen",
        "build",
        "--content",
        str(content),
        "--out",
        str(out),
        "--quiet",
    ]
    subprocess.run([sys.executable, "-m", "bench.measure", str(result), "--", *build], check=False)
    measured = json.loads(result.read_text(encoding="utf-8"))
    return Measured(
        input_bytes=input_bytes,
        output_bytes=_tree_bytes(out),
        returncode=measured["returncode"],
        peak_rss_mb=measured["peak_rss_mb"],
        tree_rss_mb=measured["tree_rss_mb"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.amplify", description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("work", type=Path, help="an empty or new directory for the corpora and sites")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    runs = {name: _measure(args.work, name, args.count) for name in ("clean", "hostile")}
    for name, run in runs.items():
        print(
            f"{name}: {args.count} papers, {run.input_bytes:,} input bytes, {run.output_bytes:,} output bytes "
            f"({run.output_bytes / run.input_bytes:.1f}x), exit {run.returncode}, "
            f"peak RSS {run.peak_rss_mb} MB, tree RSS {run.tree_rss_mb} MB"
        )
    ratio = runs["hostile"].peak_rss_mb / runs["clean"].peak_rss_mb
    tree_ratio = runs["hostile"].tree_rss_mb / runs["clean"].tree_rss_mb
    print(f"peak RSS hostile/clean: {ratio:.2f} (tree RSS {tree_ratio:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
