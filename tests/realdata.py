"""The real values the derivation tests check against, loaded once.

``DERIVATION``: the seed's values and the registry key (``tests/data/derivation_vectors.json``);
``REGISTRY``: records, Pith numbers, titles and integrity events re-checked from the
registry's public pages (``tests/data/registry_vectors.json``).
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import DATA

DERIVATION: dict[str, Any] = json.loads((DATA / "derivation_vectors.json").read_text(encoding="utf-8"))
SEED: dict[str, Any] = DERIVATION["seed"]
REGISTRY: dict[str, Any] = json.loads((DATA / "registry_vectors.json").read_text(encoding="utf-8"))
