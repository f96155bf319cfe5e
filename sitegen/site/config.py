"""``site.yaml`` and Markdown front matter, loaded safely and validated (layer 2).

YAML goes through ``yaml.safe_load`` only, so tags such as ``!!python/object`` are
refused. Unknown or mistyped keys are errors naming the key and the file: a typo
in a setting must not silently fall back to a default.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from urllib.parse import urlsplit

import yaml

from sitegen.errors import ConfigError
from sitegen.pith.parse import Limits

__all__ = ["PageMeta", "Publish", "SiteConfig", "load_site_config", "split_front_matter"]

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class Publish(StrEnum):
    """How ``build`` puts a rebuilt site in place of the live one (``site.yaml`` ``publish:``, ``--publish``)."""

    SWAP = "swap"
    """The whole staged tree replaces the live one in one swap: a reader sees the old site or the new."""
    PATCH = "patch"
    """A rebuild that reuses at least half the papers moves only its new files into the live site, one
    at a time, and deletes the obsolete ones; for a moment a reader may see old and new files mixed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteConfig:
    """Validated site settings; every field has a default a mirror can start from."""

    title: str = "Pith mirror"
    description: str = "Verified provenance of research papers, re-checkable by anyone."
    base_url: str = "/"
    """Absolute URL (``https://mirror.example/pith/``) or a path (``/mirror/``); always ends in ``/``."""
    language: str = "en"
    registry_url: str = "https://pith.science"
    registry_name: str = "Pith registry"
    papers_per_page: int = 200
    feed_entries: int = 100
    """Papers in the Atom feed: the newest verified ones (the sitemap lists them all)."""
    footer: str = ""
    limits: Limits = field(default_factory=Limits)
    publish: Publish = Publish.SWAP

    @property
    def base_path(self) -> str:
        """The path part of ``base_url``: the prefix of every link on the site."""
        return urlsplit(self.base_url).path or "/"

    @property
    def absolute_base(self) -> str | None:
        """``base_url`` when it names a host (needed for feeds and canonical links), else None."""
        return self.base_url if urlsplit(self.base_url).scheme in ("http", "https") else None


_STR_KEYS = ("title", "description", "base_url", "language", "registry_url", "registry_name", "footer")
_LIMIT_KEYS = {
    "max_state_bytes": "max_bytes",
    "max_json_depth": "max_depth",
    "max_states": "max_states",
    "max_aliases": "max_aliases",
    "max_findings": "max_findings",
    "max_claims": "max_claims",
    "max_references": "max_references",
    "max_events": "max_events",
    "max_string_chars": "max_string_chars",
    "max_output_bytes_per_paper": "max_output_bytes_per_paper",
}
"""``site.yaml`` ``limits:`` keys and the ``Limits`` field each sets."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice (plain YAML keeps the last one silently)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[object, object]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, str | int) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        if isinstance(key, str | int):
            seen.add(key)
    return dict(loader.construct_mapping(node))


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _unknown_key(source: str, field_path: str, key: object, known: Iterable[str]) -> ConfigError:
    """An error naming the unknown key, the closest known one when it looks like a typo, and the rest."""
    names = sorted(known)
    close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        source,
        field_path,
        f"unknown key {str(key)!r}{hint} (known: {', '.join(names)})",
        check="config.unknown_key",
    )


def _load_yaml(text: str, source: str) -> object:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(source, "", f"not valid safe YAML{where}: {problem}", check="yaml.syntax") from exc


def load_site_config(text: str, source: str = "site.yaml") -> SiteConfig:
    """Validate the text of ``site.yaml``.

    Raises:
        ConfigError: bad YAML, an unsafe tag, an unknown key, or a value of the wrong type.
    """
    document = _load_yaml(text, source)
    if document is None:
        return SiteConfig()
    if not isinstance(document, dict):
        raise ConfigError(source, "(top level)", "expected a mapping of settings", check="config.type")
    known = {f.name for f in fields(SiteConfig)}
    values: dict[str, object] = {}
    for key, value in document.items():
        if not isinstance(key, str) or key not in known:
            raise _unknown_key(source, str(key), key, known)
        if key in _STR_KEYS:
            if not isinstance(value, str):
                raise ConfigError(
                    source, key, f"expected a string, got {type(value).__name__}", check="config.type"
                )
            values[key] = value
        elif key in ("papers_per_page", "feed_entries"):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100_000:
                raise ConfigError(source, key, "expected an integer from 1 to 100000", check="config.type")
            values[key] = value
        elif key == "limits":
            values[key] = _limits(value, source)
        elif key == "publish":
            values[key] = _publish(value, source)
    config = SiteConfig(**values)  # type: ignore[arg-type]
    _validate(config, source)
    return config


def _limits(value: object, source: str) -> Limits:
    if not isinstance(value, dict):
        raise ConfigError(source, "limits", "expected a mapping", check="config.type")
    chosen: dict[str, int] = {}
    for key, number in value.items():
        if not isinstance(key, str) or key not in _LIMIT_KEYS:
            raise _unknown_key(source, f"limits.{key}", key, _LIMIT_KEYS)
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise ConfigError(source, f"limits.{key}", "expected a positive integer", check="config.type")
        chosen[_LIMIT_KEYS[key]] = number
    return Limits(**chosen)


def _publish(value: object, source: str) -> Publish:
    allowed = [mode.value for mode in Publish]
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(
            source, "publish", f"expected {' or '.join(allowed)}, got {value!r}", check="config.value"
        )
    return Publish(value)


def _validate(config: SiteConfig, source: str) -> None:
    if not config.title.strip():
        raise ConfigError(source, "title", "expected a non-empty title", check="config.value")
    parts = urlsplit(config.base_url)
    if parts.scheme not in ("", "http", "https") or (parts.scheme and not parts.netloc):
        raise ConfigError(
            source, "base_url", "expected an http(s) URL or a path starting with /", check="config.value"
        )
    if not parts.path.startswith("/") or not parts.path.endswith("/") or parts.query or parts.fragment:
        raise ConfigError(
            source, "base_url", "the path must start and end with / (e.g. /mirror/)", check="config.value"
        )
    if urlsplit(config.registry_url).scheme not in ("http", "https"):
        raise ConfigError(source, "registry_url", "expected an http(s) URL", check="config.value")
    if _LANG.fullmatch(config.language) is None:
        raise ConfigError(
            source, "language", "expected a language tag such as en or pt-BR", check="config.value"
        )


_FRONT_MATTER_KEYS = ("order", "slug", "title")
_CLOSING_FENCE = re.compile(r"\n---(?:\n|\Z)")


@dataclass(frozen=True, slots=True, kw_only=True)
class PageMeta:
    """A Markdown page's validated front matter."""

    title: str
    slug: str
    order: int = 0


def split_front_matter(text: str, source: str) -> tuple[PageMeta, str]:
    """Split a Markdown page into validated front matter and its body.

    Raises:
        ConfigError: no ``---`` front matter, bad YAML, an unknown key, a missing
            title or slug, or a slug that is not lower-case letters, digits and dashes.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        raise ConfigError(
            source, "", "a page starts with YAML front matter between --- lines", check="page.front_matter"
        )
    closing = _CLOSING_FENCE.search(text, 3)
    if closing is None:
        raise ConfigError(source, "", "front matter is not closed by a --- line", check="page.front_matter")
    meta = _load_yaml(text[4 : closing.start() + 1], source)
    body = text[closing.end() :]
    if not isinstance(meta, Mapping):
        raise ConfigError(source, "", "front matter must be a mapping", check="page.front_matter")
    for key in meta:
        if key not in _FRONT_MATTER_KEYS:
            raise _unknown_key(source, str(key), key, _FRONT_MATTER_KEYS)
    title, slug, order = meta.get("title"), meta.get("slug"), meta.get("order", 0)
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(source, "title", "expected a non-empty string", check="page.front_matter")
    if not isinstance(slug, str) or _SLUG.fullmatch(slug) is None:
        raise ConfigError(
            source, "slug", "expected lower-case letters, digits and dashes", check="page.front_matter"
        )
    if not isinstance(order, int) or isinstance(order, bool):
        raise ConfigError(source, "order", "expected an integer", check="page.front_matter")
    return PageMeta(title=title, slug=slug, order=order), body
