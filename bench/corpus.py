"""Deterministic synthetic corpora of really signed state files.

``python -m bench.corpus N DIR [--seed S]`` writes ``DIR/site.yaml``,
``DIR/keys/bench-key.json`` and N state files under ``DIR/states/``, signed with a
bench key derived from the seed. Papers are realistic in size and shape: long
author lists, integrity findings, claims, references, every alias kind, old-style
arXiv ids with a slash, submission years from 1993 on.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tests.synth import SigningKey, dump_state, make_state

__all__ = [
    "add_new_paper",
    "bench_key",
    "generate_corpus",
    "load_template",
    "main",
    "paper_bytes",
    "rewrite_papers",
    "state_name",
]

_TEMPLATE = Path(__file__).resolve().parent / "template.state.json"
_WORDS = [
    "learning",
    "scaling",
    "laws",
    "asynchronous",
    "reinforcement",
    "policy",
    "gradient",
    "staleness",
    "bounds",
    "optimal",
    "transport",
    "graph",
    "neural",
    "network",
    "quantum",
    "error",
    "correction",
    "lattice",
    "gauge",
    "theory",
    "dark",
    "matter",
    "halo",
    "galaxy",
    "survey",
    "protein",
    "folding",
    "diffusion",
    "model",
    "language",
    "alignment",
    "robust",
    "estimation",
    "sparse",
    "recovery",
    "convex",
    "relaxation",
    "stochastic",
    "approximation",
    "variational",
    "inference",
    "causal",
    "discovery",
    "federated",
    "privacy",
    "verification",
    "provenance",
    "signature",
    "hash",
    "consensus",
]
_NAMES = [
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Leslie",
    "Radia",
    "Tim",
    "Margaret",
    "Shafi",
    "Silvio",
    "Whitfield",
    "Martin",
    "Ralph",
    "Claude",
    "Kurt",
    "Emmy",
    "Sophie",
    "Hedy",
    "Katherine",
    "Dorothy",
    "Mary",
    "Chien-Shiung",
    "Lise",
]
_SURNAMES = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Lamport",
    "Perlman",
    "Berners-Lee",
    "Hamilton",
    "Goldwasser",
    "Micali",
    "Diffie",
    "Hellman",
    "Merkle",
    "Shannon",
    "Goedel",
    "Noether",
    "Germain",
    "Lamarr",
    "Johnson",
    "Vaughan",
    "Jackson",
    "Wu",
    "Meitner",
    "Zhang",
    "Nakamura",
    "Okafor",
    "Silva",
    "Novak",
]
_CATS = ("cs.LG", "cs.AI", "cs.CR", "hep-lat", "hep-th", "math.CO", "astro-ph.GA", "quant-ph", "q-bio.BM")
_OLD_ARCHIVES = ("hep-lat", "hep-th", "math", "astro-ph", "cond-mat", "quant-ph")
# Mostly small teams; one paper in 50 is a large collaboration (hundreds of authors, as in hep-ex).
_AUTHOR_COUNTS = (1, 2, 3, 3, 4, 5, 6, 8, 12, 40) * 5 + (300,)


def _title(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 14))).capitalize()


_NEW_MONTHS = [(year, month) for year in range(2008, 2027) for month in range(1, 13)]
_OLD_SLOTS = [
    (archive, year, month)
    for archive in _OLD_ARCHIVES
    for year in range(1993, 2007)
    for month in range(1, 13)
]


def _source(rng: random.Random, index: int) -> tuple[str, str]:
    """(source id, submitted_at): about one paper in eight has an old-style id with a slash.

    Ids are unique by construction (up to millions of papers), spread over the months:
    new-style ``YYMM.NNNNN`` over 2008-2026, old-style ``archive/YYMMNNN`` over 1993-2006.
    """
    if index % 8 == 7:
        slot = index // 8
        archive, year, month = _OLD_SLOTS[slot % len(_OLD_SLOTS)]
        number = slot // len(_OLD_SLOTS) % 999 + 1
        return (
            f"{archive}/{year % 100:02d}{month:02d}{number:03d}",
            f"{year}-{month:02d}-{rng.randint(1, 28):02d}T00:00:00Z",
        )
    year, month = _NEW_MONTHS[index % len(_NEW_MONTHS)]
    number = index // len(_NEW_MONTHS) % 100000
    return (
        f"{year % 100:02d}{month:02d}.{number:05d}",
        f"{year}-{month:02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
    )


def paper_bytes(
    template: dict[str, Any],
    key: SigningKey,
    index: int,
    seed: int,
    revision: int = 0,
    submitted_at: str | None = None,
) -> bytes:
    """The bytes of paper ``index`` of the corpus; ``revision`` > 0 gives a changed version of it;
    ``submitted_at``, when given, replaces the submission time the index spreads it to."""
    rng = random.Random(f"{seed}/{index}/{revision}")  # noqa: S311 (repeatable test data, not secrets)
    source_id, spread_at = _source(rng, index)
    submitted_at = submitted_at or spread_at
    authors = [f"{rng.choice(_NAMES)} {rng.choice(_SURNAMES)}" for _ in range(rng.choice(_AUTHOR_COUNTS))]
    findings = [
        {
            "detector": "doi_compliance",
            "finding_type": rng.choice(("recoverable_identifier", "broken_identifier", "dead_url")),
            "severity": rng.choice(("critical", "advisory", "informational")),
            "verdict_class": "incontrovertible",
            "note": "Identifier in the printed bibliography " + _title(rng).lower(),
            "detected_doi": f"10.{rng.randint(1000, 9999)}/{rng.randint(1, 10**6)}",
            "detected_arxiv_id": None,
            "ref_index": rng.randint(1, 80),
            "audited_at": "2026-05-19T23:15:25.767223Z",
        }
        for _ in range(rng.choice((0, 0, 1, 3)))
    ]
    references = [
        {"title": _title(rng), "doi": f"10.{rng.randint(1000, 9999)}/{rng.randint(1, 10**6)}", "arxiv_id": ""}
        for _ in range(rng.choice((0, 5, 10)))
    ]
    claims = [{"text": "We show that " + _title(rng).lower() + "."} for _ in range(rng.choice((0, 2, 4)))]
    state = make_state(
        template,
        key,
        source_id=source_id,
        version=rng.randint(1, 4) + revision,
        title=_title(rng),
        authors=authors,
        submitted_at=submitted_at,
        primary_cat=rng.choice(_CATS),
        cross_cats=rng.sample(_CATS, rng.randint(0, 3)),
        abstract=" ".join(rng.choice(_WORDS) for _ in range(120)).capitalize() + ".",
        findings=findings,
        claims=claims,
        references=references,
        event_seed=f"{seed}/{index}/{revision}",
    )
    return dump_state(state)


def state_name(index: int) -> str:
    return f"states/{index // 1000:04d}/paper-{index:07d}.state.json"


def bench_key(seed: int) -> SigningKey:
    return SigningKey.from_seed(f"pith-sitegen bench key {seed}".encode(), "bench-key")


def load_template() -> dict[str, Any]:
    """The real state every synthetic paper is built on."""
    template: dict[str, Any] = json.loads(_TEMPLATE.read_text(encoding="utf-8"))
    return template


def rewrite_papers(directory: Path, indices: Iterable[int], seed: int = 1, revision: int = 1) -> None:
    """Replace papers of a corpus by a changed state: a new arXiv version (new record, new Pith number)."""
    template, key = load_template(), bench_key(seed)
    for index in indices:
        (directory / state_name(index)).write_bytes(paper_bytes(template, key, index, seed, revision))


NEWEST_MONTH_DAY = "2026-12-28T12:00:00Z"
"""After every paper the corpus spreads over its months (up to December 2026): a new paper's time."""


def add_new_paper(directory: Path, index: int, seed: int = 1) -> Path:
    """Add paper ``index`` (past the corpus's end) as a new submission of the newest month, as a
    registry's daily update adds; return its file."""
    path = directory / state_name(index)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        paper_bytes(load_template(), bench_key(seed), index, seed, submitted_at=NEWEST_MONTH_DAY)
    )
    return path


def generate_corpus(count: int, directory: Path, seed: int = 1) -> Iterator[int]:
    """Write a corpus of ``count`` papers into ``directory``; yields each index as it is written."""
    template = load_template()
    key = bench_key(seed)
    (directory / "keys").mkdir(parents=True, exist_ok=True)
    key.write_key_file(directory / "keys")
    (directory / "site.yaml").write_text(
        "title: Bench mirror\nbase_url: https://mirror.example/\n", encoding="utf-8"
    )
    for index in range(count):
        path = directory / state_name(index)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(paper_bytes(template, key, index, seed))
        yield index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    for index in generate_corpus(args.count, args.directory, args.seed):
        if (index + 1) % 1000 == 0:
            print(f"\r{index + 1}/{args.count} papers", end="", file=sys.stderr)
    print(f"\rwrote {args.count} papers to {args.directory}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
