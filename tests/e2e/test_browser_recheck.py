"""The in-page re-check, driven in headless Chromium against the seed served under /mirror/."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import alias_target
from tests.e2e.conftest import REPLACED_TITLE
from tests.e2e.visitor_site import (
    BROWSER_TEST,
    SEED_KEY_FINGERPRINT,
    SEED_SHA256,
    SEED_SUFFIX,
    Served,
    Visit,
    visit,
)
from tests.synth import SigningKey

pytestmark = BROWSER_TEST

REGISTRY_KEY_B64 = "stVStoiQhXFxp4s2pdzPNoqVNBMojDU/fJ2db5S3CbM="
STEP_NAMES = [
    "Fetch record.json",
    "Canonical SHA-256",
    "Pith number",
    "Source",
    "Title hash",
    "Registry key",
    "Ed25519 signature",
    "This page's verdict",
]


@contextmanager
def tampered(path: Path, change: Callable[[bytes], bytes]) -> Iterator[None]:
    """Alter a served file for the duration of a block, then put it back."""
    original = path.read_bytes()
    path.write_bytes(change(original))
    try:
        yield
    finally:
        path.write_bytes(original)


def run_recheck(seen: Visit) -> tuple[str, list[str]]:
    """Press the control and return the result line and each step's line."""
    seen.page.get_by_role("button", name="Re-check in my browser").click()
    seen.page.wait_for_selector("#recheck-result[class^='step-']")
    steps = seen.page.locator("#recheck-steps li").all_inner_texts()
    return seen.page.inner_text("#recheck-result"), steps


def pin(seen: Visit, text: str) -> str:
    """Pin a trust root through the form and return what the page says about it."""
    seen.page.get_by_label("Pin a trust root of your own").fill(text)
    seen.page.get_by_role("button", name="Pin", exact=True).click()
    return seen.page.inner_text("#pin-status")


def paper_file(served: Served, name: str) -> Path:
    return served.site / "pith" / SEED_SUFFIX / name


def test_recheck_reports_success_for_the_seed(seed_mirror: Served, chromium_browser: Any) -> None:
    """The seed re-checks in the browser: every step passes and says what it derived, no console error, no other host."""
    seen = visit(chromium_browser, seed_mirror.paper_url())
    result, steps = run_recheck(seen)
    assert result.startswith("Re-check passed"), result
    assert [s.split(":")[0] for s in steps] == STEP_NAMES
    assert all(": passed" in s for s in steps), steps
    assert SEED_SHA256 in steps[1]
    assert f"pith:2026:{SEED_SUFFIX}" in steps[2]
    assert "record.json names 2607.01083 version 1, the source this page shows" in steps[3]
    assert "title shown on this page, lower-cased" in steps[4]
    assert seen.page.inner_text("#recheck-fp") == SEED_KEY_FINGERPRINT
    assert "served by this mirror" in seen.page.inner_text("#recheck-key-source")
    assert seen.errors == []
    assert seen.foreign_requests(seed_mirror.origin) == []


def test_altered_record_fails_at_the_hash_step(seed_mirror: Served, chromium_browser: Any) -> None:
    """A served record.json that differs by one category fails at the SHA-256 step, and the signature with it."""
    with tampered(paper_file(seed_mirror, "record.json"), lambda b: b.replace(b'"cs.LG"', b'"cs.CV"')):
        seen = visit(chromium_browser, seed_mirror.paper_url())
        result, steps = run_recheck(seen)
    assert result.startswith("Re-check failed at step 2 (Canonical SHA-256)"), result
    assert "the record is not the one this page describes" in result
    assert steps[1].startswith("Canonical SHA-256: failed")
    assert steps[6].startswith("Ed25519 signature: failed")
    assert seen.errors == []


def test_altered_signature_fails_at_the_signature_step(seed_mirror: Served, chromium_browser: Any) -> None:
    """A served signature.bin with one flipped bit passes the hash steps and fails the signature step."""
    with tampered(paper_file(seed_mirror, "signature.bin"), lambda b: bytes([b[0] ^ 1]) + b[1:]):
        seen = visit(chromium_browser, seed_mirror.paper_url())
        result, steps = run_recheck(seen)
    assert result.startswith("Re-check failed at step 7 (Ed25519 signature)"), result
    assert "does not verify" in result
    assert all(": passed" in s for s in steps[:6]), steps
    assert seen.errors == []


def test_truncated_signature_is_named_as_the_wrong_length(seed_mirror: Served, chromium_browser: Any) -> None:
    """A signature.bin that is not 64 bytes fails the signature step and says how long it is."""
    with tampered(paper_file(seed_mirror, "signature.bin"), lambda b: b[:63]):
        result, _ = run_recheck(visit(chromium_browser, seed_mirror.paper_url()))
    assert "failed at step 7 (Ed25519 signature): signature.bin has 63 bytes" in result


def test_pinning_a_fresh_key_makes_the_recheck_fail(seed_mirror: Served, chromium_browser: Any) -> None:
    """Pinning another key (a fresh key's base64) replaces the mirror's key and the re-check fails."""
    fresh = SigningKey.generate("not-the-registry")
    seen = visit(chromium_browser, seed_mirror.paper_url())
    said = pin(seen, base64.b64encode(fresh.public_bytes).decode("ascii"))
    assert said.startswith(f"Pinned: a key with fingerprint {fresh.fingerprint_hex}")
    result, steps = run_recheck(seen)
    assert result.startswith("Re-check failed at step 6 (Registry key)"), result
    assert steps[6].startswith("Ed25519 signature: failed")
    assert seen.page.inner_text("#recheck-fp") == fresh.fingerprint_hex
    seen.page.reload()
    assert "Pinned: a key with fingerprint" in seen.page.inner_text("#pin-status")
    assert seen.errors == []


def test_pinning_the_registry_fingerprint_keeps_success(seed_mirror: Served, chromium_browser: Any) -> None:
    """Pinning the registry key's fingerprint accepts the mirror's key only because it matches."""
    seen = visit(chromium_browser, seed_mirror.paper_url())
    assert pin(seen, SEED_KEY_FINGERPRINT).startswith(f"Pinned: fingerprint {SEED_KEY_FINGERPRINT}")
    result, steps = run_recheck(seen)
    assert result.startswith("Re-check passed"), result
    assert "matching the fingerprint you pinned" in steps[5]
    assert seen.errors == []


def test_pinning_the_registry_key_itself_keeps_success(seed_mirror: Served, chromium_browser: Any) -> None:
    """Pinning the registry's own key (base64) verifies without using the mirror's copy."""
    seen = visit(chromium_browser, seed_mirror.paper_url())
    pin(seen, REGISTRY_KEY_B64)
    result, steps = run_recheck(seen)
    assert result.startswith("Re-check passed"), result
    assert "the key you pinned" in steps[5]
    assert not any("/keys/" in url for url in seen.requests)


def test_pinning_another_fingerprint_fails_at_the_key_step(
    seed_mirror: Served, chromium_browser: Any
) -> None:
    """A pinned fingerprint the mirror's key does not have stops the re-check at the key step."""
    seen = visit(chromium_browser, seed_mirror.paper_url())
    pin(seen, "00" * 16)
    result, _ = run_recheck(seen)
    assert result.startswith("Re-check failed at step 6 (Registry key)"), result
    assert "not the fingerprint you pinned" in result


def test_unusable_pin_is_refused_in_words(seed_mirror: Served, chromium_browser: Any) -> None:
    """Text that is neither a key nor a fingerprint is not pinned, and the page says why."""
    seen = visit(chromium_browser, seed_mirror.paper_url())
    said = pin(seen, "not a key")
    assert said.startswith("Not pinned: paste a 32-byte Ed25519 public key")
    assert seen.page.evaluate("localStorage.length") == 0


def test_paper_page_is_readable_without_javascript(seed_mirror: Served, chromium_browser: Any) -> None:
    """With JavaScript off the build's verdict and the recipe show, and the script-only controls stay hidden."""
    context = chromium_browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(seed_mirror.paper_url())
    assert page.get_by_role("status").first.inner_text().startswith("✔ Verified")
    assert page.locator("#recipe").is_visible()
    assert not page.get_by_role("button", name="Re-check in my browser").is_visible()
    context.close()


def test_pinning_the_registry_key_as_pem_or_json_keeps_success(
    seed_mirror: Served, chromium_browser: Any
) -> None:
    """The registry's key pasted as PEM, or as the registry's key file itself, is accepted as the trust root."""
    pem = (seed_mirror.site / "keys" / "pith-v1-2026-05.pem").read_text(encoding="utf-8")
    key_json = (seed_mirror.registry / "pith-signing-key.json").read_text(encoding="utf-8")
    for pasted in (pem, key_json):
        seen = visit(chromium_browser, seed_mirror.paper_url())
        assert pin(seen, pasted).startswith(f"Pinned: a key with fingerprint {SEED_KEY_FINGERPRINT}")
        result, _ = run_recheck(seen)
        assert result.startswith("Re-check passed"), result


def test_key_the_mirror_does_not_serve_is_not_checked_until_pinned(
    untrusted_mirror: tuple[Served, SigningKey], chromium_browser: Any
) -> None:
    """Without the signer's key the re-check is incomplete at the key step; pinning that key completes it."""
    served, key = untrusted_mirror
    suffix = alias_target(served.site, "arxiv/2611.00001").rsplit(":", 1)[1]
    seen = visit(chromium_browser, served.paper_url(suffix))
    result, steps = run_recheck(seen)
    assert result.startswith("Re-check incomplete at step 6 (Registry key)"), result
    assert "this mirror does not trust key another-registry-key" in result
    assert steps[6].startswith("Ed25519 signature: not checked")
    pin(seen, key.public_bytes.hex())
    result, _ = run_recheck(seen)
    assert result.startswith("Re-check passed"), result
    assert seen.errors == []


def _statuses(steps: list[str]) -> list[str]:
    """Each step's status word: passed, failed or not (checked)."""
    return [step.split(": ", 1)[1].split(" ")[0] for step in steps]


def test_replaced_title_fails_at_the_title_step_even_with_the_registry_key_pinned(
    title_replaced: Served, chromium_browser: Any
) -> None:
    """A title replaced after signing: the record, its hash, number and signature are the registry's, but the
    title shown does not hash to the signed title hash, so the re-check names that step and never passes."""
    for pinned in (False, True):
        seen = visit(chromium_browser, title_replaced.paper_url())
        assert seen.page.inner_text("#paper-title") == REPLACED_TITLE
        if pinned:
            pin(seen, REGISTRY_KEY_B64)
        result, steps = run_recheck(seen)
        assert result.startswith("Re-check failed at step 5 (Title hash): SHA-256 of the title shown"), result
        assert "the title is not the one the registry signed" in result
        assert [s.split(":")[0] for s in steps] == STEP_NAMES
        assert _statuses(steps) == [
            "passed", "passed", "passed", "passed", "failed", "passed", "passed", "failed",
        ]  # fmt: skip
        assert "title.canon_sha256" in steps[7]
        assert "Re-check passed" not in seen.page.inner_text(".recheck-ui")
        assert seen.page.get_attribute("#recheck-result", "class") == "step-fail"
        assert seen.errors == []


def test_failed_page_does_not_pass_even_when_every_step_matches(
    state_hash_wrong: Served, chromium_browser: Any
) -> None:
    """A state failed on a check the re-check does not make (its state hash): every step matches, yet the
    re-check fails at the page's verdict and names the build's failed check."""
    seen = visit(chromium_browser, state_hash_wrong.paper_url())
    result, steps = run_recheck(seen)
    assert _statuses(steps)[:7] == ["passed"] * 7, steps
    assert result.startswith("Re-check failed at step 8 (This page's verdict)"), result
    assert "state.state_sha256" in result
    assert seen.page.get_attribute("#recheck-result", "class") == "step-fail"


def test_the_page_says_what_each_re_check_can_guarantee(seed_mirror: Served, chromium_browser: Any) -> None:
    """The page says the in-page check is the mirror's code and what a pin is shared with; no text claims
    that pinning stops trusting the mirror."""
    seen = visit(chromium_browser, seed_mirror.paper_url())
    text = seen.page.inner_text("#recheck")
    assert "against a hostile mirror it guarantees nothing" in text
    assert "is code you control" in text
    assert "on GitHub project pages, that is every site of the same owner" in text
    seen.page.get_by_role("button", name="Re-check in my browser").click()
    seen.page.wait_for_selector("#recheck-result[class^='step-']")
    assert "stop trusting" not in seen.page.inner_text("#recheck")
