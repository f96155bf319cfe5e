"""Pure pieces of the operator commands: id parsing, link resolution, JUnit escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sitegen.commands.check import _link_target
from sitegen.commands.pull import parse_id, sources_from_manifest, state_file_name
from sitegen.errors import ConfigError
from sitegen.pith.report import Check, InputReport, Status, Verdict
from sitegen.render.junit import junit_xml
from tests.conftest import DATA


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7", "suffix", "3BA52NFJTLFMVFHQMNWVXCSHM7"),
        ("3BA52NFJTLFMVFHQMNWVXCSHM7", "suffix", "3BA52NFJTLFMVFHQMNWVXCSHM7"),
        ("pith:3BA52NFJ", "short", "3BA52NFJ"),
        ("3BA52NFJTLFMVFHQ", "short", "3BA52NFJTLFMVFHQ"),
        ("2607.01083", "arxiv", "2607.01083"),
        ("arXiv:2607.01083v2", "arxiv", "2607.01083"),
        ("hep-lat/0305021", "arxiv", "hep-lat/0305021"),
        ("math.GT/0309136v1", "arxiv", "math.GT/0309136"),
    ],
)
def test_ids_of_every_kind_are_recognised(text: str, kind: str, value: str) -> None:
    """Pith numbers, short forms and new and old arXiv ids parse to the value used in URLs."""
    parsed = parse_id(text)
    assert (parsed.kind, parsed.value) == (kind, value)


@pytest.mark.parametrize(
    "text", ["", "pith:2026:short", "3BA52", "../etc/passwd", "2607.01083/../x", "pith:3ba52nfj"]
)
def test_other_text_is_not_an_id(text: str) -> None:
    """Anything else is refused with a message naming it."""
    with pytest.raises(ValueError, match="is not a Pith number"):
        parse_id(text)


def test_old_style_ids_keep_their_file_name_flat() -> None:
    """A slash in an old-style id never makes a sub-directory of content/states/."""
    assert state_file_name("hep-lat/0305021") == "hep-lat_0305021.state.json"


@pytest.mark.parametrize(
    ("page", "target", "resolved"),
    [
        ("pith/ABC/index.html", "../../assets/site.css", "assets/site.css"),
        ("pith/ABC/index.html", "../../verification/", "verification/index.html"),
        ("index.html", "./", "index.html"),
        ("404.html", "/m/assets/site.css", "assets/site.css"),
        ("404.html", "/elsewhere/x.css", "//elsewhere/x.css"),
        ("index.html", "https://pith.science/", None),
        ("index.html", "#main", None),
        ("a/index.html", "../../x.html", "../x.html"),
        ("pith/ABC/index.html", "state.json", "pith/ABC/state.json"),
    ],
)
def test_links_resolve_to_site_paths(page: str, target: str, resolved: str | None) -> None:
    """Relative and base-prefixed links map to site files; external and fragment links are skipped."""
    assert _link_target(page, target, "/m/") == resolved


def test_junit_escapes_markup_and_control_characters() -> None:
    """Names and messages with markup and control characters give well-formed XML that keeps the text."""
    report = InputReport(
        input='states/<a & "b">\x01.json',
        kind="state",
        verdict=Verdict.FAILED,
        checks=(Check(id="receipt.signature", status=Status.FAILED, summary="bad ]]> sig\x00"),),
        errors=("states/x: receipt.signature: bad",),
    )
    root = ET.fromstring(junit_xml([report], ["w <1>"], strict=True, seconds=1.0))
    case = root.find("testsuite/testcase[@classname='state']")
    assert case is not None
    assert case.get("name") == 'states/<a & "b">\ufffd.json'
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == "failed: receipt.signature"
    assert "bad ]]> sig\ufffd" in (failure.text or "")
    assert root.find("testsuite/testcase[@name='warnings']/failure") is not None


def test_real_registry_manifest_gives_its_state_pattern() -> None:
    """The registry's real pith-mirrors.json yields its state URL pattern."""
    data = (DATA / "pith-mirrors.json").read_bytes()
    assert sources_from_manifest(data, "pith-mirrors.json") == [
        "https://pith.science/pith/{suffix}/state.json"
    ]


def test_path_only_patterns_resolve_against_the_manifest_url_and_not_a_file() -> None:
    """A mirror's path-only pattern is joined to the manifest URL; from a local file it is refused."""
    doc = b'{"mirrors": [{"state_pattern": "/m/pith/{suffix}/state.json"}]}'
    assert sources_from_manifest(doc, "https://mirror.example/m/pith-mirrors.json") == [
        "https://mirror.example/m/pith/{suffix}/state.json"
    ]
    with pytest.raises(ConfigError, match="is not an http"):
        sources_from_manifest(doc, "local/pith-mirrors.json")
