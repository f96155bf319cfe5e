"""Rendering: Jinja2 templates and Markdown into bytes (layer 3). Writes nothing.

Autoescape is on for every template and undefined names are errors; Markdown
goes through markdown-it-py with raw HTML off, so no input string can inject
markup. Data from state files is untrusted and never marked ``|safe``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import urlsplit

import jinja2
import orjson
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape

from sitegen.errors import BuildError
from sitegen.pith.report import Status, Verdict
from sitegen.site.config import SiteConfig
from sitegen.site.urls import href, root_prefix

__all__ = [
    "TEMPLATES_DIR",
    "Renderer",
    "VisibleMarkup",
    "compact_json",
    "html_text",
    "is_plain_json",
    "json_bytes",
    "safe_link",
    "write_json",
]

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
_encode_string: Callable[[str], str] = json.encoder.encode_basestring
"""``json``'s own string encoder for ``ensure_ascii=False`` (the C one where available)."""

VERDICT_WORDS: Mapping[str, tuple[str, str]] = {
    Verdict.VERIFIED.value: (
        "Verified",
        "This build recomputed every checkable hash and verified the registry's signature with a trusted key.",
    ),
    Verdict.FAILED.value: (
        "Failed",
        "A check failed: the file was altered or is inconsistent. Do not rely on it.",
    ),
    Verdict.UNVERIFIABLE.value: (
        "Unverifiable",
        "Nothing failed, but the signature could not be checked (for example, the key is not trusted here). Treat it as unverified.",
    ),
    Verdict.REJECTED.value: ("Rejected", "The file could not be read as a state file at all."),
}


_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def is_plain_json(value: object) -> bool:
    """True when ``value`` holds only dicts, lists, tuples, str, int, bool and None (exact types).

    For such values orjson (``OPT_SORT_KEYS``, and ``OPT_INDENT_2`` for the indented form)
    writes the very bytes of ``json.dumps`` with ``ensure_ascii=False`` and sorted keys, or
    refuses. Floats are left out (orjson writes some in another form, ``1e-7`` for ``1e-07``),
    and so are subclasses and enums, whose encoding ``json`` decides otherwise. Only the
    endpoints' encoding uses this: the hashes that verification checks keep the standard
    library's recipe (``canonical.py``), so what is verified never rests on a second encoder.
    """
    pending: list[Any] = [value]
    pop, extend = pending.pop, pending.extend
    while pending:
        item = pop()
        kind = type(item)
        if kind is dict:
            extend(item.values())
        elif kind is list or kind is tuple:
            extend(item)
        elif kind not in _PLAIN_SCALARS:
            return False
    return True


def json_bytes(value: object, *, plain: bool | None = None) -> bytes:
    """Deterministic JSON for endpoints: sorted keys, two-space indent, UTF-8, final newline.

    The bytes of ``json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2)``
    plus a newline. With an indent, ``json`` uses its pure-Python encoder, and every
    paper writes five of these; orjson writes the same bytes for JSON's own types much
    faster (the measured ratio is in ``docs/scale.md``). So a value made only of dicts, lists, tuples, strings, ints, bools
    and None goes to orjson; anything else (floats, whose shortest form orjson writes
    differently, subclasses, enums), and what orjson refuses (ints past 64 bits, keys that
    are not strings, lone surrogates), goes through ``json`` as before. ``plain`` is what
    the caller knows of ``is_plain_json(value)``, which then is not walked again.
    """
    if is_plain_json(value) if plain is None else plain:
        try:
            return orjson.dumps(value, option=_ORJSON_INDENTED)
        except orjson.JSONEncodeError:
            pass
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


_ORJSON_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def write_json(value: object, handle: IO[bytes]) -> None:
    """Write ``json_bytes(value)`` to ``handle`` a few kilobytes at a time.

    For site-wide documents (the alias map of every paper): the encoded text of a
    large corpus is tens of megabytes, and its pieces held in memory several times that.
    """
    start = handle.tell()
    parts: list[str] = []

    def flush() -> None:
        handle.write("".join(parts).encode("utf-8"))
        parts.clear()

    try:
        _encode_indented(value, "", parts, flush)
    except _NotPlainJSON:
        handle.seek(start)
        handle.truncate()
        handle.write(json_bytes(value))
        return
    parts.append("\n")
    flush()


class _NotPlainJSON(Exception):
    """A value the fast encoder leaves to ``json``."""


_FLUSH_TOKENS = 8192


def _encode_indented(value: object, indent: str, out: list[str], flush: Callable[[], None] | None) -> None:
    """Append the tokens of ``json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2)``.

    With ``flush``, it is called to empty ``out`` whenever that holds many tokens.
    """
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif type(value) is int:
        out.append(int.__repr__(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        separator = "{\n" + inner
        for key in sorted(value):
            if type(key) is not str:
                raise _NotPlainJSON
            out.append(separator)
            out.append(_encode_string(key))
            out.append(": ")
            _encode_indented(value[key], inner, out, flush)
            separator = ",\n" + inner
            if flush is not None and len(out) > _FLUSH_TOKENS:
                flush()
        out.append("\n" + indent + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        separator = "[\n" + inner
        for item in value:
            out.append(separator)
            _encode_indented(item, inner, out, flush)
            separator = ",\n" + inner
            if flush is not None and len(out) > _FLUSH_TOKENS:
                flush()
        out.append("\n" + indent + "]")
    else:
        raise _NotPlainJSON


def compact_json(value: object, *, plain: bool | None = None) -> bytes:
    """Deterministic one-line JSON: sorted keys, no spaces, UTF-8.

    The bytes of ``json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))``;
    made by orjson under the same condition (and ``plain``) as ``json_bytes``.
    """
    if is_plain_json(value) if plain is None else plain:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters and bidi embeddings/overrides/isolates: they can hide or reorder what a page shows."""


class VisibleMarkup(Markup):
    """HTML built in Python from ``html_text`` values and literals: safe, and already ``_visible``.

    ``finalize`` prints it as it is instead of scanning kilobytes of rows a second time.
    """

    __slots__ = ()


def html_text(value: object) -> Markup:
    """What a template prints for ``{{ value }}``: control and bidi characters replaced, then escaped."""
    if type(value) is str and value.isprintable():  # the usual case: nothing for _visible to replace
        return escape(value)
    return escape(_visible(value))


def _visible(value: object) -> object:
    """Jinja ``finalize``: every control or bidi-override character in output becomes U+FFFD.

    Escaping alone keeps such characters; a title with U+202E could display reversed text.
    Markup (already-safe HTML, JSON-LD) stays Markup: the replacement adds no markup.
    Every such character is non-printable, so ``isprintable()`` (one C scan) clears most
    values without the regular expression.
    """
    if (
        isinstance(value, str)
        and not value.isprintable()
        and type(value) is not VisibleMarkup
        and _INVISIBLE.search(value) is not None
    ):
        if isinstance(value, Markup):
            return Markup(_INVISIBLE.sub("\ufffd", str(value)))  # noqa: S704 (adds no markup)
        return _INVISIBLE.sub("\ufffd", value)
    return value


def safe_link(url: str) -> str | None:
    """``url`` when it is an absolute http(s) link, else None: data never supplies other schemes."""
    lowered = url.strip().lower()
    if lowered.startswith(("https://", "http://")) and not any(c in url for c in "\"'<> \t\n\r\\"):
        return url.strip()
    return None


def _image_from_this_site_only(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """An image from another host becomes a link to it: the site never fetches from another host."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    parts = urlsplit(src)
    if not (parts.scheme or parts.netloc):
        return renderer.image(tokens, idx, options, env)
    alt = renderer.renderInlineAsText(token.children, options, env) or src
    return f'<a href="{escapeHtml(src)}" rel="external noopener">{escapeHtml(alt)}</a>'


_MEMO_LIMIT = 4096
_MEMO_ARG_CHARS = 1_000
"""Arguments longer than this (in all) are a paper's own text (a check naming a long title), which
no other paper shares: such a call is rendered and not remembered, so the cache stays small."""


def _memoized_rows(macro: Callable[..., Markup]) -> Callable[[Iterable[Sequence[object]]], Markup]:
    """The rows ``macro`` makes of each argument tuple it is given, joined; each row's text is
    remembered per arguments (at most ``_MEMO_LIMIT`` at once, each of at most ``_MEMO_ARG_CHARS``
    characters of text).

    For a macro whose output depends only on its arguments and the site, called with the
    same arguments for most papers (a check's row, a completeness line). The rows come out
    as a ``VisibleMarkup``: the macro printed every value through ``finalize`` already, so
    the page that prints them does not scan them again.
    """
    cache: dict[tuple[object, ...], str] = {}

    def row(args: tuple[object, ...]) -> str:
        html = cache.get(args)
        if html is None:
            html = macro(*args)
            if sum(len(a) for a in args if isinstance(a, str)) <= _MEMO_ARG_CHARS:
                if len(cache) >= _MEMO_LIMIT:
                    cache.clear()
                cache[args] = html
        return html

    def rows(arguments: Iterable[Sequence[object]]) -> Markup:
        return VisibleMarkup("".join([row(tuple(args)) for args in arguments]))

    return rows


_PLACEHOLDER = "SitegenSlot{}Zq"
_PLACEHOLDER_WORD = "sitegenslot"
_PLACEHOLDERS = re.compile(r"SitegenSlot(\d+)Zq")


_Stamp = tuple[list[str], list[int], list[str]]
"""A template's text split at its placeholders: its literals, the value index of each placeholder
between two literals, and the value names."""


def _split_stamp(name: str, text: str, names: list[str]) -> _Stamp:
    """``text``, rendered with placeholders, as a stamp; refused when a filter changed a placeholder."""
    pieces = _PLACEHOLDERS.split(text)
    if any(_PLACEHOLDER_WORD in piece.lower() for piece in pieces[::2]):
        raise BuildError(f"template {name!r} transforms a value it may only show as text")
    return pieces[::2], [int(index) for index in pieces[1::2]], names


def _fill_stamp(stamp: _Stamp, printed: list[Markup]) -> str:
    """The stamp's text with ``printed[i]`` in the place of each placeholder of value ``i``."""
    literals, slots, _ = stamp
    out = [literals[0]]
    for slot, literal in zip(slots, literals[1:], strict=True):
        out.append(printed[slot])
        out.append(literal)
    return "".join(out)


class Renderer:
    """Templates compiled once per build; ``page()`` turns a template and context into bytes."""

    def __init__(
        self,
        config: SiteConfig,
        templates_dir: Path = TEMPLATES_DIR,
        nav_pages: tuple[tuple[str, str], ...] = (),
        compiled: jinja2.BytecodeCache | None = None,
    ) -> None:
        """``compiled``: where the compiled templates are kept from one build to the next
        (``fs.compiled``); None: every template is compiled afresh."""
        self.config = config
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir)),
            bytecode_cache=compiled,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=_visible,
            auto_reload=False,  # templates do not change during a build: no stat() per extends and include
            cache_size=-1,  # a plain dict for the few templates, not a locked LRU cache per extends
        )
        self.env.globals.update(
            site=config,
            absolute_base=config.absolute_base,  # properties that parse the URL: read once a build, not a page
            base_path=config.base_path,
            verdict_words=VERDICT_WORDS,
            Status=Status,
            safe_link=safe_link,
            nav_pages=[{"slug": slug, "title": title} for slug, title in nav_pages],
        )
        self.env.filters["status_words"] = lambda value: str(value).replace("_", " ")
        macros: Any = self.env.get_template(
            "_macros.html"
        ).module  # its macros are attributes made at run time
        self.status_badges: Mapping[str, Markup] = {
            status.value: macros.status_badge(status) for status in Status
        }
        """Each badge rendered once: a macro call per use costs more than the page."""
        self.stated_note: Markup = macros.stated()
        self.verdict_badges: Mapping[str, Markup] = {v.value: macros.verdict_badge(v.value) for v in Verdict}
        self.env.globals.update(
            status_badges=self.status_badges,
            verdict_badges=self.verdict_badges,
            big_verdict_badges={v.value: macros.verdict_badge(v.value, big=True) for v in Verdict},
            stated_note=self.stated_note,
        )
        rows: Any = self.env.get_template("_macros.html").make_module()  # sees the badges made above
        self.check_rows = _memoized_rows(rows.check_row)
        """The checks table's rows, each the ``check_row`` macro's, remembered: most papers share them."""
        self.completeness_items = _memoized_rows(rows.completeness_item)
        """The completeness list's items, each the ``completeness_item`` macro's, remembered."""
        self.markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        self.markdown.add_render_rule("image", _image_from_this_site_only)
        self._cache: dict[str, jinja2.Template] = {}
        self._stamps: dict[Hashable, _Stamp] = {}

    def template(self, name: str) -> jinja2.Template:
        cached = self._cache.get(name)
        if cached is None:
            try:
                cached = self._cache[name] = self.env.get_template(name)
            except jinja2.TemplateNotFound as exc:
                raise BuildError(f"template {name!r} is missing from {TEMPLATES_DIR}") from exc
        return cached

    def page(self, name: str, page_dir: PurePosixPath | str, **context: object) -> bytes:
        """Render ``name`` for a page living in ``page_dir`` (links are relative to it)."""
        override = context.pop("root_override", None)
        root = override if isinstance(override, str) else root_prefix(page_dir)
        return self._render(name, root, str(page_dir), context).encode("utf-8")

    def _render(self, name: str, root: str, page_dir: str, context: Mapping[str, object]) -> str:
        def link(rel: PurePosixPath | str, directory: bool = True) -> str:
            return href(root, rel, directory=directory)

        return self.template(name).render(root=root, link=link, page_dir=page_dir, **context)

    def stamped_pages(
        self,
        name: str,
        page_dirs: Sequence[PurePosixPath | str],
        values: Mapping[str, str],
        context: Callable[[Mapping[str, str]], Mapping[str, object]],
        shape: Hashable = (),
    ) -> list[bytes]:
        """``page(name, page_dir, **context(values))`` for each of ``page_dirs``, rendered once and then only filled in.

        For small pages made by the thousand (alias redirects): the template is rendered
        once per ``shape``, depth of ``page_dir`` and set of value names, with a placeholder
        for each value and for ``page_dir``; each page gets the escaped, ``_visible`` values
        where their placeholders were, which is what Jinja prints for ``{{ value }}`` (each
        value escaped once for all the pages). So the template must show each value (and
        ``page_dir``) only as plain text, and everything else it shows must depend on
        ``shape`` and the site alone; a value passed through a filter is refused, and
        ``link()`` may only be given values that need no percent-encoding.

        Raises:
            BuildError: the template transforms a placeholder.
        """
        printed_values = {field: html_text(value) for field, value in values.items()}
        pages = []
        for page_dir in page_dirs:
            root = root_prefix(page_dir)
            key = (name, root, shape, tuple(values))
            stamp = self._stamps.get(key)
            if stamp is None:
                stamp = self._stamps[key] = self._stamp(name, root, values, context)
            literals, slots, names = stamp
            printed = [
                html_text(str(page_dir)) if field == "page_dir" else printed_values[field] for field in names
            ]
            out = [literals[0]]
            for slot, literal in zip(slots, literals[1:], strict=True):
                out.append(printed[slot])
                out.append(literal)
            pages.append("".join(out).encode("utf-8"))
        return pages

    def stamped_text(self, name: str, values: Mapping[str, str]) -> Markup:
        """``{% include name %}`` given only ``values`` (and the site), rendered once and then only filled in.

        The same contract as ``stamped_pages``: the template shows each value only as plain
        text, and everything else it shows depends on the site alone. Made for the shell
        recipe of every paper page, whose include and filters cost a tenth of the page.

        Raises:
            BuildError: the template transforms a placeholder.
        """
        key = (name, tuple(values))
        stamp = self._stamps.get(key)
        if stamp is None:
            names = list(values)
            holders = {field: _PLACEHOLDER.format(index) for index, field in enumerate(names)}
            stamp = self._stamps[key] = _split_stamp(name, self.template(name).render(**holders), names)
        return VisibleMarkup(_fill_stamp(stamp, [html_text(values[field]) for field in stamp[2]]))

    def _stamp(
        self,
        name: str,
        root: str,
        values: Mapping[str, str],
        context: Callable[[Mapping[str, str]], Mapping[str, object]],
    ) -> _Stamp:
        """The page rendered with a placeholder for ``page_dir`` and each value, split at them."""
        names = ["page_dir", *values]
        holders = {field: _PLACEHOLDER.format(index) for index, field in enumerate(names)}
        text = self._render(name, root, holders["page_dir"], context({k: holders[k] for k in values}))
        return _split_stamp(name, text, names)

    def markdown_html(self, text: str) -> str:
        """Markdown to HTML with raw HTML disabled (escaped as text)."""
        html: str = self.markdown.render(text)
        return html
