"""Which shard of a sharded build owns an input (layer 2, pure).

``build --shard K/N`` lets N machines build one corpus in parallel; ``merge`` joins
their outputs (see ``docs/scale.md``). Every input belongs to exactly one shard,
decided from the input alone, so every job agrees without talking to the others:
a state file by its Pith suffix (found by a cheap scan for the first
``"pith_number"`` field, before the strict parse), so a paper stays in its shard
when its file moves; a file without one (unreadable, or not a state at all) by its
input path. SHA-256 of that key spreads papers evenly over the shards.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["Shard", "shard_key"]

_PITH_NUMBER = re.compile(rb'"pith_number"\s*:\s*"pith:[0-9]{4}:([A-Z2-7]{26})"')


def shard_key(input_name: str, data: bytes) -> str:
    """``suffix:<SUFFIX>`` for a file naming a Pith number, else ``path:<input path>``.

    >>> shard_key("states/a.json", b'{"state_type":"x","pith_number":"pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7"}')
    'suffix:3BA52NFJTLFMVFHQMNWVXCSHM7'
    >>> shard_key("states/broken.json", b"{not json")
    'path:states/broken.json'
    """
    found = _PITH_NUMBER.search(data)
    if found is not None:
        return "suffix:" + found.group(1).decode("ascii")
    return "path:" + input_name


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based, as in ``--shard 2/8``)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` with 1 <= K <= N.

        >>> Shard.parse("2/8")
        Shard(index=2, count=8)

        Raises:
            ValueError: anything else.
        """
        index_text, _, count_text = text.partition("/")
        if not (index_text.isdigit() and count_text.isdigit()):
            raise ValueError(f"shard must be K/N with whole numbers, got {text!r}")
        shard = cls(int(index_text), int(count_text))
        if not 1 <= shard.index <= shard.count:
            raise ValueError(f"shard must be K/N with 1 <= K <= N, got {text!r}")
        return shard

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, input_name: str, data: bytes) -> bool:
        """Whether this shard builds the input ``input_name`` whose bytes are ``data``."""
        digest = hashlib.sha256(shard_key(input_name, data).encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1
