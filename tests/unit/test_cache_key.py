"""The incremental cache's build key covers the package's code and the templates, not the bench or the tests.

The bench lives in top-level ``bench/`` and the test signer in ``tests/``: editing either
must not make the next build re-render every paper, while any edit to ``sitegen/`` must.
The key is taken over a copy of this checkout (the code directory pointed at the copy's
package, at the same place relative to the tree as the real one), so no real file is edited.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import sitegen
from sitegen.build import cache
from sitegen.fs.sources import discover
from tests.conftest import REGISTRY_KEY_PATH, ROOT

KeyOf = Callable[[], str]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of this checkout's package, templates, bench and tests."""
    copy = tmp_path / "checkout"
    for part in ("sitegen", "templates", "bench", "tests"):
        shutil.copytree(
            ROOT / part,
            copy / part,
            # not bench/work: the bench's corpora and sites, gigabytes after a `make bench`
            ignore=shutil.ignore_patterns("__pycache__", "golden", "hostile", "work"),
        )
    return copy


@pytest.fixture
def key_of(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KeyOf:
    """The build key of a small content tree, computed over the copy."""
    monkeypatch.setattr(cache, "_CODE_DIR", tree / cache._CODE_DIR.relative_to(ROOT))
    content = tmp_path / "content"
    (content / "keys").mkdir(parents=True)
    shutil.copy(REGISTRY_KEY_PATH, content / "keys")
    (content / "site.yaml").write_text("title: Key test\nbase_url: /\n", encoding="utf-8")
    return lambda: cache.build_key(discover(content), tree / "templates")


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as stream:
        stream.write(text)


def test_the_code_hashed_is_the_installed_package() -> None:
    """The key hashes the package ``sitegen`` imports from: the tree the build runs."""
    assert Path(sitegen.__file__).resolve().parent == cache._CODE_DIR


@pytest.mark.parametrize(
    "rel",
    ["bench/__main__.py", "bench/new_tool.py", "tests/synth.py", "tests/unit/test_new.py", "tests/new.txt"],
)
def test_a_change_to_the_bench_or_the_tests_keeps_the_key(tree: Path, key_of: KeyOf, rel: str) -> None:
    before = key_of()
    _append(tree / rel, "\n# edited\n")
    assert key_of() == before


@pytest.mark.parametrize(
    "rel",
    [
        "sitegen/build/paper_job.py",
        "sitegen/pith/verify.py",
        "sitegen/render/new_module.py",
        "templates/base.html",
    ],
)
def test_a_change_to_the_package_or_the_templates_changes_the_key(
    tree: Path, key_of: KeyOf, rel: str
) -> None:
    before = key_of()
    _append(tree / rel, "\n# edited\n")
    assert key_of() != before
