"""The incremental cache reads its ``site`` file (the site-wide files' ``SHA256SUMS`` lines, owner
lines between) with one pattern: the paths and sums it finds are those ``manifest_entries`` finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.build.cache import _site_sums, _unambiguous_sums
from sitegen.fs.staging import manifest_entries
from sitegen.site.manifest_bins import owner_line

_SHA256 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
_PATH = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), min_size=1, max_size=12
)
_LINE = st.one_of(
    st.builds(lambda sha256, path: f"{sha256}  {path}\n", _SHA256, _PATH),
    st.builds(lambda sha256, path: f"{sha256}  {path}\n", _SHA256, st.sampled_from(["a", "b/c", "a b"])),
    st.builds(
        lambda owner: owner_line(owner),
        st.one_of(st.none(), st.text("ABCDEFGH234567", min_size=1, max_size=26)),
    ),
    st.builds(lambda text: f"{text}\n", st.text(max_size=70).filter(lambda t: "\n" not in t)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_LINE, max_size=20))
def test_the_site_file_reads_as_its_lines_do(lines: list[str]) -> None:
    text = "".join(lines)
    entries = list(manifest_entries(text.split("\n")))
    assert _site_sums(text) == ({path for path, _ in entries}, _unambiguous_sums(entries))
