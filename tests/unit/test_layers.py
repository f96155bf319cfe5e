"""The module layers of the style guide, as the code is: walked from each module's imports with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "sitegen"

LAYERS = {
    "sitegen": 0,
    "sitegen.errors": 0,
    "sitegen.canonical": 0,
    "sitegen.xmlout": 0,
    "sitegen.pithnum": 0,
    "sitegen.model": 1,
    "sitegen.report": 1,
    "sitegen.junit": 1,
    "sitegen.parse": 2,
    "sitegen.config": 2,
    "sitegen.keys": 2,
    "sitegen.verify": 3,
    "sitegen.urls": 4,
    "sitegen.render": 4,
    "sitegen.paper_html": 4,
    "sitegen.search": 4,
    "sitegen.claims": 4,
    "sitegen.feeds": 4,
    "sitegen.sources": 5,
    "sitegen.output": 5,
    "sitegen.pull": 5,
    "sitegen.audit": 5,
    "sitegen.paper": 6,
    "sitegen.build": 6,
    "sitegen.cache": 6,
    "sitegen.serve": 6,
    "sitegen.cli": 6,
    "sitegen.__main__": 6,
    "sitegen.synth": 6,
    "sitegen.bench": 6,
    "sitegen.bench.corpus": 6,
    "sitegen.bench.__main__": 6,
    "sitegen.bench.floor": 6,
    "sitegen.bench.hugo": 6,
    "sitegen.bench.measure": 6,
    "sitegen.bench.perpaper": 6,
    "sitegen.bench.runbuild": 6,
    "sitegen.shard": 0,
    "sitegen.shardlog": 6,
    "sitegen.merge": 6,
    "sitegen.spill": 6,
}
"""Layer of every module: 0 format, 1 model, 2 parse, 3 verify, 4 site, 5 I/O, 6 CLI and tools."""

PURE = ("sitegen.errors", "sitegen.canonical", "sitegen.pithnum", "sitegen.model", "sitegen.report")
PURE += ("sitegen.parse", "sitegen.keys", "sitegen.verify", "sitegen.urls", "sitegen.shard", "sitegen.claims")
"""Modules that do no I/O: they take values and return values."""

IO_MODULES = {"os", "io", "shutil", "tempfile", "subprocess", "socket", "multiprocessing", "fcntl", "ctypes"}
IO_MODULES |= {"sys", "http", "urllib.request", "glob", "logging"}
IO_NAMES = {("pathlib", "Path"), ("builtins", "open")}
IO_CALLS = {"open", "print", "input"}
CRYPTOGRAPHY_IMPORTERS = {"sitegen.verify", "sitegen.synth"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for every import statement in the file."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def _sitegen_imports(path: Path) -> set[str]:
    """The sitegen modules a file imports (``from sitegen import x`` counts as sitegen.x when x is a module)."""
    targets = set()
    for module, name in _imports(path):
        if module == "sitegen" and name is not None and f"sitegen.{name}" in MODULES:
            targets.add(f"sitegen.{name}")
        elif module == "sitegen" or module.startswith("sitegen."):
            targets.add(module)
    return targets


def test_every_module_has_a_layer_and_every_layer_entry_a_module() -> None:
    """A new module must be placed in the layer table; a removed one must leave it."""
    assert sorted(MODULES.keys() - LAYERS.keys()) == []
    assert sorted(LAYERS.keys() - MODULES.keys()) == []


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_module_imports_only_its_own_or_lower_layers(module: str) -> None:
    """No module reaches up the stack: verification never depends on rendering, I/O or the CLI."""
    if module not in LAYERS:
        pytest.fail(f"{module} is not in the layer table LAYERS: give it a layer")
    upward = {t: LAYERS[t] for t in _sitegen_imports(MODULES[module]) if LAYERS.get(t, 99) > LAYERS[module]}
    assert upward == {}, f"{module} (layer {LAYERS[module]}) imports higher layers"


@pytest.mark.parametrize("module", PURE, ids=str)
def test_pure_modules_do_no_io(module: str) -> None:
    """Derivation, parsing and verification modules import no I/O and never open, print or read input."""
    path = MODULES[module]
    imports = _imports(path)
    assert [m for m, _ in imports if m in IO_MODULES or m.split(".")[0] in IO_MODULES - {"urllib"}] == []
    assert [(m, n) for m, n in imports if (m, n) in IO_NAMES] == []
    calls = [
        node.func.id
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in IO_CALLS
    ]
    assert calls == []


def test_only_verify_and_synth_import_cryptography() -> None:
    """verify.py is the one place signatures are checked; synth.py signs test states; nothing else touches keys."""
    importers = {
        name
        for name, path in MODULES.items()
        if any(m.split(".")[0] == "cryptography" for m, _ in _imports(path))
    }
    assert importers == CRYPTOGRAPHY_IMPORTERS


def test_the_layer_walk_sees_imports() -> None:
    """The walk is not vacuous: verify.py is seen importing parse and report."""
    assert {"sitegen.parse", "sitegen.report", "sitegen.keys"} <= _sitegen_imports(MODULES["sitegen.verify"])
