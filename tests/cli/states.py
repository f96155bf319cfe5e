"""Later (or padded) versions of a signed test state, for the rollback tests of `pull`."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence

from tests.synth import dump_state, restate_hash


def with_events(data: bytes, names: Sequence[str], *, junk_invalid_events: int = 0) -> bytes:
    """``data`` with one more graph snapshot event per name, and junk ``invalid_events``, counts kept consistent.

    Events and counts are not covered by the receipt's signature, so the result still
    verifies: a later state from the registry and a mirror's padded one look alike.
    """
    state = json.loads(data)
    for name in names:
        snapshot = copy.deepcopy(state["current"]["graph_snapshots"][0])
        snapshot["event_id"] = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
        state["current"]["graph_snapshots"].append(snapshot)
        state["applied_event_ids"].append(snapshot["event_id"])
    state["valid_event_count"] = len(state["applied_event_ids"])
    state["invalid_events"].extend({"junk": n} for n in range(junk_invalid_events))
    state["invalid_event_count"] = len(state["invalid_events"])
    state["event_count"] = state["valid_event_count"] + state["invalid_event_count"]
    return dump_state(restate_hash(state))
