"""Bounded output: what one state becomes in the built site does not grow with its text without a bound."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from bench.amplify import amplifier_bytes
from bench.corpus import load_template
from sitegen.render.search_index import MAX_WORD_TERMS
from tests.cli.helpers import run_cli, tree
from tests.conftest import site_aliases
from tests.e2e.sitebuild import report_entries
from tests.synth import SigningKey

_KEY = SigningKey.from_seed(b"bounded output", "bounded-key")
_ESCAPED_TITLE = re.compile(r"(?:&lt;|\\u003c|&#60;|<){100}")
"""A run of the amplifier's title, however it is escaped."""


def _suffix(site: Path, source_id: str) -> str:
    aliases = site_aliases(site)
    return str(next(a["pith_number"] for a in aliases if a["path"] == f"arxiv/{source_id}/")).rsplit(":", 1)[
        1
    ]


def test_amplifier_output_is_bounded_and_its_redirects_hold_no_title(
    make_content: Callable[..., Path], tmp_path: Path
) -> None:
    """A title of 199,000 ``<`` and 64 aliases: the redirect pages are small and hold no title, the output under 24x."""
    data = amplifier_bytes(load_template(), _KEY, 0)
    content = make_content({"amp.state.json": data}, keys=[_KEY])
    site = tmp_path / "site"
    result = run_cli("build", "--content", content, "--out", site)
    assert result.returncode == 0, result.stderr
    files = tree(site)
    suffix = _suffix(site, "2601.00000")
    redirects = {
        path: body
        for path, body in files.items()
        if path.endswith("/index.html")
        and path.startswith(("arxiv/", "doi/", "pith/"))
        and not path.startswith(f"pith/{suffix}/")
    }
    assert len(redirects) == 6  # 64 aliases, six distinct: one page each
    for path, body in redirects.items():
        assert len(body) < 4_000, path
        assert _ESCAPED_TITLE.search(body.decode("utf-8")) is None, path
        assert f"pith:2026:{suffix}".encode() in body
    assert b"doi</" not in redirects["doi/10.48550/arxiv.2601.00000/index.html"]
    assert (
        b"The doi alias <code>10.48550/arxiv.2601.00000</code>"
        in redirects["doi/10.48550/arxiv.2601.00000/index.html"]
    )
    assert len(files["index.html"]) < 100_000  # the listing shows the title's first 1,000 characters
    assert sum(map(len, files.values())) < 24 * len(data)


def test_a_state_over_the_output_budget_is_rejected_and_nothing_of_it_written(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path
) -> None:
    """Over ``limits.max_output_bytes_per_paper``, a state is rejected by name, nothing of it is written, the rest builds."""
    states = {
        "small.state.json": new_paper(_KEY, "2607.00001"),
        "large.state.json": new_paper(_KEY, "2607.00002", title="<" * 50_000),
    }
    content = make_content(
        states, keys=[_KEY], site_yaml="title: T\nlimits:\n  max_output_bytes_per_paper: 300000\n"
    )
    site = tmp_path / "site"
    result = run_cli("build", "--content", content, "--out", site)
    assert result.returncode == 1, result.stderr
    assert re.search(
        r"states/large\.state\.json: limits\.max_output_bytes_per_paper: limit\.output: the paper's pages "
        r"and files take more than the budget of 300000 bytes \(\d+ with pith/[A-Z2-7]{26}/index\.html, "
        r"\d+ files so far\); none of them is written",
        result.stderr,
    ), result.stderr
    files = tree(site)
    assert not any(path.startswith(("arxiv/2607.00002", "doi/10.48550/arxiv.2607.00002")) for path in files)
    pages = [p for p in files if re.fullmatch(r"pith/[A-Z2-7]{26}/index\.html", p)]
    assert len(pages) == 1 and b"A test paper" in files[pages[0]]
    verdicts = {name: entry["status"] for name, entry in report_entries(site).items()}
    assert verdicts == {"states/small.state.json": "verified", "states/large.state.json": "rejected"}
    listing = files["verification/index.html"].decode("utf-8")
    assert "states/large.state.json" in listing and "limits.max_output_bytes_per_paper" in listing


def test_search_keeps_at_most_the_cap_of_a_papers_words(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path
) -> None:
    """A paper with 500 distinct author words is found by its first ``MAX_WORD_TERMS`` words and its ids only."""
    names = [f"w{n:03d}x" for n in range(500)]
    authors = [f"{a} {b}" for a, b in zip(names[::2], names[1::2], strict=True)]
    content = make_content(
        {"many.state.json": new_paper(_KEY, "2607.00003", title="Quantum gauge", authors=authors)},
        keys=[_KEY],
    )
    site = tmp_path / "site"
    result = run_cli("build", "--content", content, "--out", site)
    assert result.returncode == 0, result.stderr
    terms: set[str] = set()
    for path in (site / "search" / "terms").iterdir():
        terms.update(json.loads(path.read_text(encoding="utf-8")))
    words = {t for t in terms if ":" not in t}
    assert len(words) == MAX_WORD_TERMS
    assert words == {"quantum", "gauge", *names[: MAX_WORD_TERMS - 2]}
    assert {t.split(":", 1)[0] for t in terms - words} == {"pith", "arxiv", "doi"}
