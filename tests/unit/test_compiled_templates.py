"""Compiled templates kept between builds (``Renderer``'s ``compiled``, in the build's cache).

A kept template is used only while its source is the one it was compiled from: an edited
template renders its new text, and a damaged or unwritable cache costs only the compile.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from sitegen.fs.compiled import CompiledTemplates
from sitegen.render.templates import TEMPLATES_DIR, Renderer
from sitegen.site.config import SiteConfig


def _templates(tmp_path: Path, probe: str) -> Path:
    copy = tmp_path / "templates"
    if not copy.exists():
        shutil.copytree(TEMPLATES_DIR, copy)
    (copy / "probe.html").write_text(probe, encoding="utf-8")
    return copy


def _render(templates: Path, compiled: Path | None) -> bytes:
    return Renderer(
        SiteConfig(title="Probe"),
        templates_dir=templates,
        compiled=None if compiled is None else CompiledTemplates(compiled),
    ).page("probe.html", "", word="<w>")


def test_a_kept_compiled_template_renders_as_a_fresh_compile_does(tmp_path: Path) -> None:
    templates = _templates(tmp_path, "first {{ word }} {{ site.title }}\n")
    compiled = tmp_path / "cache" / "templates"
    fresh = _render(templates, None)
    assert fresh == b"first &lt;w&gt; Probe\n"
    assert _render(templates, compiled) == fresh
    kept = sorted(compiled.iterdir())
    assert kept, "the compiled template is kept"
    assert _render(templates, compiled) == fresh  # from the kept compile this time
    assert sorted(compiled.iterdir()) == kept


def test_an_edited_template_renders_its_new_source_not_the_kept_compile(tmp_path: Path) -> None:
    compiled = tmp_path / "compiled"
    assert _render(_templates(tmp_path, "first {{ word }}\n"), compiled) == b"first &lt;w&gt;\n"
    assert _render(_templates(tmp_path, "second {{ word }}\n"), compiled) == b"second &lt;w&gt;\n"


def test_a_damaged_kept_compile_is_compiled_again(tmp_path: Path) -> None:
    templates = _templates(tmp_path, "first {{ word }}\n")
    compiled = tmp_path / "compiled"
    _render(templates, compiled)
    kept = {path: path.read_bytes() for path in compiled.iterdir()}
    cuts: list[Callable[[bytes], bytes]] = [
        lambda code: code[:40],
        lambda code: code[:-1] + bytes([code[-1] ^ 1]),
        lambda code: code.replace(b"first", b"third"),
    ]
    for cut in cuts:
        for path, code in kept.items():
            path.write_bytes(cut(code))
        assert _render(templates, compiled) == b"first &lt;w&gt;\n"


def test_a_compiled_directory_that_cannot_be_made_only_costs_the_compile(tmp_path: Path) -> None:
    templates = _templates(tmp_path, "first {{ word }}\n")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    assert _render(templates, blocker / "compiled") == b"first &lt;w&gt;\n"
