"""site.yaml and Markdown front matter: safe YAML, validated keys and values, errors naming file and key."""

from __future__ import annotations

import pytest

from sitegen.errors import ConfigError
from sitegen.pith.parse import Limits
from sitegen.site.config import PageMeta, SiteConfig, load_site_config, split_front_matter

SOURCE = "content/site.yaml"


def test_every_setting_is_read() -> None:
    """Each documented key lands in the config with its value."""
    config = load_site_config(
        "title: My mirror\n"
        "description: Papers.\n"
        "base_url: https://mirror.example/pith/\n"
        "language: pt-BR\n"
        "registry_url: https://registry.example\n"
        "registry_name: Example registry\n"
        "papers_per_page: 50\n"
        "footer: Run by us.\n"
        "limits: {max_state_bytes: 1000, max_json_depth: 10}\n",
        SOURCE,
    )
    assert config == SiteConfig(
        title="My mirror",
        description="Papers.",
        base_url="https://mirror.example/pith/",
        language="pt-BR",
        registry_url="https://registry.example",
        registry_name="Example registry",
        papers_per_page=50,
        footer="Run by us.",
        limits=Limits(max_bytes=1000, max_depth=10),
    )
    assert config.base_path == "/pith/" and config.absolute_base == "https://mirror.example/pith/"


def test_empty_file_gives_the_defaults() -> None:
    """An empty site.yaml is a valid one: every setting has a default, and a path base has no host."""
    config = load_site_config("", SOURCE)
    assert config == SiteConfig()
    assert config.base_path == "/" and config.absolute_base is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "titel: x\n",
            "content/site.yaml: titel: config.unknown_key: unknown key 'titel'; did you mean 'title'?",
        ),
        (
            "baseurl: /\n",
            "content/site.yaml: baseurl: config.unknown_key: unknown key 'baseurl'; did you mean 'base_url'?",
        ),
        (
            "colour: red\n",
            "content/site.yaml: colour: config.unknown_key: unknown key 'colour' (known: base_url, ",
        ),
        (
            "limits: {max_bytes: 3}\n",
            "limits.max_bytes: config.unknown_key: unknown key 'max_bytes'; did you mean 'max_state_bytes'?",
        ),
        ("title: 3\n", "content/site.yaml: title: config.type: expected a string, got int"),
        ("title: ''\n", "content/site.yaml: title: config.value: expected a non-empty title"),
        ("papers_per_page: true\n", "papers_per_page: config.type: expected an integer from 1 to 100000"),
        ("papers_per_page: 0\n", "papers_per_page: config.type"),
        (
            "limits: {max_state_bytes: -1}\n",
            "limits.max_state_bytes: config.type: expected a positive integer",
        ),
        ("limits: 5\n", "limits: config.type: expected a mapping"),
        ("base_url: mirror/\n", "base_url: config.value: the path must start and end with /"),
        ("base_url: /mirror\n", "base_url: config.value: the path must start and end with /"),
        ("base_url: ftp://x/\n", "base_url: config.value: expected an http(s) URL or a path"),
        ("base_url: https:///x/\n", "base_url: config.value"),
        ("registry_url: pith.science\n", "registry_url: config.value: expected an http(s) URL"),
        ("language: english!\n", "language: config.value: expected a language tag"),
        ("- a\n- b\n", "(top level): config.type: expected a mapping of settings"),
        (
            "title: a\ntitle: b\n",
            "yaml.syntax: not valid safe YAML at line 2: the key 'title' is given twice",
        ),
        ("title: [unclosed\n", "content/site.yaml: yaml.syntax: not valid safe YAML"),
        (
            "title: !!python/object/apply:os.system ['echo hi']\n",
            "content/site.yaml: yaml.syntax: not valid safe YAML",
        ),
    ],
)
def test_bad_settings_are_errors_naming_file_and_key(text: str, message: str) -> None:
    """Unknown, mistyped, duplicated, unsafe or invalid settings raise ConfigError with file, key and check."""
    with pytest.raises(ConfigError) as error:
        load_site_config(text, SOURCE)
    assert message in str(error.value)


def test_front_matter_is_split_from_the_body() -> None:
    """Title, slug and order come from the front matter; the Markdown body follows it unchanged."""
    meta, body = split_front_matter(
        "---\ntitle: About\nslug: about\norder: 2\n---\n# Hi\n\n---\nmore\n", "p.md"
    )
    assert meta == PageMeta(title="About", slug="about", order=2)
    assert body == "# Hi\n\n---\nmore\n"


def test_front_matter_accepts_crlf_a_bom_and_no_body() -> None:
    """Windows line ends, a byte-order mark and a page with front matter only are all read."""
    meta, body = split_front_matter("\ufeff---\r\ntitle: A\r\nslug: a\r\n---", "p.md")
    assert meta == PageMeta(title="A", slug="a") and body == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# no front matter\n", "p.md: page.front_matter: a page starts with YAML front matter"),
        ("---\ntitle: A\nslug: a\n", "p.md: page.front_matter: front matter is not closed"),
        (
            "---\ntitle: A\nslug: a\ntitel: B\n---\n",
            "p.md: titel: config.unknown_key: unknown key 'titel'; did you mean 'title'?",
        ),
        ("---\nslug: a\n---\n", "p.md: title: page.front_matter: expected a non-empty string"),
        ("---\ntitle: A\nslug: ../etc\n---\n", "p.md: slug: page.front_matter: expected lower-case letters"),
        ("---\ntitle: A\nslug: About\n---\n", "p.md: slug: page.front_matter"),
        (
            "---\ntitle: A\nslug: a\norder: first\n---\n",
            "p.md: order: page.front_matter: expected an integer",
        ),
        ("---\n- a\n---\n", "p.md: page.front_matter: front matter must be a mapping"),
        ("---\ntitle: A\ntitle: B\nslug: a\n---\n", "p.md: yaml.syntax"),
    ],
)
def test_bad_front_matter_is_an_error_naming_the_page_and_key(text: str, message: str) -> None:
    """Missing, unclosed, unknown, duplicated or invalid front matter raises ConfigError naming the page."""
    with pytest.raises(ConfigError) as error:
        split_front_matter(text, "p.md")
    assert message in str(error.value)
