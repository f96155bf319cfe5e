"""Screenshots of the seed's paper page in light and dark, for the README (``make screenshots``).

Builds the real seed with the registry's real address, serves it under ``/mirror/``
on 127.0.0.1 as the end-to-end tests do, and photographs the top of the paper
page with Debian's headless Chromium: ``paper-light.png`` and ``paper-dark.png``
beside this script.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.e2e.visitor_site import chromium, serve_seed_site, visit  # noqa: E402


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as work,
        serve_seed_site(Path(work), registry_url="https://pith.science", title="Pith mirror") as served,
        chromium() as browser,
    ):
        for scheme in ("light", "dark"):
            seen = visit(browser, served.paper_url(), color_scheme=scheme)
            assert seen.errors == [], seen.errors
            target = HERE / f"paper-{scheme}.png"
            seen.page.screenshot(path=str(target))
            print(f"wrote {target}")


if __name__ == "__main__":
    main()
