"""Reading a built search index as search.js does, for the tests: which files name a paper."""

from __future__ import annotations

import json

from sitegen.render.search_index import Searchable, entry, paper_terms, shard_of

__all__ = ["files_for_paper"]


def files_for_paper(before: dict[str, bytes], after: dict[str, bytes], paper: Searchable) -> set[str]:
    """The search files adding ``paper`` may change (paths under ``search/``, as the two builds'
    file maps give them): its record file, the shard of each of its terms (for a common one, the
    chunk its entry joins, and the shard too when that cut a new chunk) and, where one of its terms starts a new shard, ``meta.json`` and the shard it
    was cut from."""
    meta = json.loads(after["search/meta.json"])
    old_names = {name for _, name in json.loads(before["search/meta.json"])["shards"]}
    firsts = [first for first, _ in meta["shards"]]
    expected = {f"search/papers/{paper.suffix[: meta['record_prefix_length']]}.json"}
    for term in paper_terms(paper):
        number = shard_of(term, firsts)
        shard_file = f"search/terms/{meta['shards'][number][1]}.json"
        held = json.loads(after[shard_file])[term]
        if isinstance(held, dict):  # a common term: the chunk the paper joined, and the shard if it cut one
            paper_entry = entry(paper)
            expected |= {
                path
                for path, data in after.items()
                if path.startswith(f"search/common/{held['common']}/") and paper_entry in json.loads(data)
            }
            if json.loads(before.get(shard_file, b"{}")).get(term) != held:
                expected.add(shard_file)
        else:
            expected.add(shard_file)
        if meta["shards"][number][1] not in old_names:
            expected |= {"search/meta.json", f"search/terms/{meta['shards'][number - 1][1]}.json"}
    return expected
