"""The module layers of the style guide, as the code is: walked from each module's imports with ast."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "sitegen"

LAYERS = {
    "sitegen": 0,
    "sitegen.errors": 0,
    "sitegen.pith": 1,
    "sitegen.site": 2,
    "sitegen.render": 3,
    "sitegen.fs": 4,
    "sitegen.build": 5,
    "sitegen.commands": 6,
    "sitegen.cli": 7,
    "sitegen.__main__": 7,
}
"""Layer of every package (and top-level module): 0 errors, 1 the Pith format, 2 the site's shape,
3 rendering, 4 the file system, 5 the build pipeline, 6 the other commands, 7 the command line.
A module may import its own package and any lower layer, never a higher one."""

PURE_PACKAGES = ("sitegen.pith", "sitegen.site")
"""Packages that do no I/O: they take values and return values."""

IO_MODULES = {"os", "io", "shutil", "tempfile", "subprocess", "socket", "multiprocessing", "fcntl", "ctypes"}
IO_MODULES |= {"sys", "http", "urllib.request", "glob", "logging"}
IO_NAMES = {("pathlib", "Path"), ("builtins", "open")}
IO_CALLS = {"open", "print", "input"}
CRYPTOGRAPHY_IMPORTERS = {"sitegen.pith.verify", "sitegen.pith.sshsig"}


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


def _layer_of(module: str) -> str | None:
    """The LAYERS entry a module belongs to: its package, or itself for a top-level module."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in LAYERS and (end > 1 or module == "sitegen"):
            return name
    return None


def test_every_module_has_a_layer_and_every_layer_entry_a_module() -> None:
    """A new package or top-level module must be placed in the layer table; a removed one must leave it."""
    assert sorted(m for m in MODULES if _layer_of(m) is None) == []
    assert sorted(LAYERS.keys() - MODULES.keys()) == []


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_module_imports_only_its_own_or_lower_layers(module: str) -> None:
    """No module reaches up the stack: the format never depends on the site, rendering, I/O or the CLI."""
    own = _layer_of(module)
    assert own is not None, f"{module} is not in a package of the layer table LAYERS"
    upward = {}
    for target in _sitegen_imports(MODULES[module]):
        layer = _layer_of(target)
        assert layer is not None, f"{module} imports {target}, which has no layer"
        if LAYERS[layer] > LAYERS[own]:
            upward[target] = f"{layer} (layer {LAYERS[layer]})"
    assert upward == {}, f"{module} ({own}, layer {LAYERS[own]}) imports higher layers"


def test_a_docstring_that_names_its_layer_names_the_tables() -> None:
    """A module docstring's "(layer N" is its package's layer in LAYERS, so the two never drift apart."""
    wrong = {}
    for module, path in MODULES.items():
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        named = re.search(r"\(layer ([0-9]+)", doc)
        own = _layer_of(module)
        if named and own is not None and int(named.group(1)) != LAYERS[own]:
            wrong[module] = f"says layer {named.group(1)}, is in {own} (layer {LAYERS[own]})"
    assert wrong == {}


def test_layers_are_a_strict_order_of_packages() -> None:
    """Two packages never share a layer, so "lower" always means one direction."""
    packages = [name for name in LAYERS if name not in ("sitegen", "sitegen.errors", "sitegen.__main__")]
    assert len({LAYERS[name] for name in packages}) == len(packages)


def test_the_package_never_imports_the_bench_or_the_tests() -> None:
    """The bench and the test signers live outside the installed package."""
    offenders = {
        name: sorted(m for m, _ in _imports(path) if m.split(".")[0] in ("bench", "tests"))
        for name, path in MODULES.items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


PURE = tuple(name for name in MODULES if _layer_of(name) in PURE_PACKAGES)


@pytest.mark.parametrize("module", PURE, ids=str)
def test_pure_modules_do_no_io(module: str) -> None:
    """Derivation, parsing, verification and site-shape modules import no I/O and never open, print or read input."""
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


def test_only_verify_imports_cryptography() -> None:
    """verify.py (the registry's signatures) and sshsig.py (the operator's) are the only places signatures
    are made or checked; the test signer lives under tests/."""
    importers = {
        name
        for name, path in MODULES.items()
        if any(m.split(".")[0] == "cryptography" for m, _ in _imports(path))
    }
    assert importers == CRYPTOGRAPHY_IMPORTERS


def test_the_layer_walk_sees_imports() -> None:
    """The walk is not vacuous: verify.py is seen importing parse and report."""
    assert {"sitegen.pith.parse", "sitegen.pith.report", "sitegen.pith.keys"} <= _sitegen_imports(
        MODULES["sitegen.pith.verify"]
    )
