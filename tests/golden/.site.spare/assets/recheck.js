// "Re-check in my browser" on a paper page. Fetches record.json and signature.bin from
// beside the page and derives, with the browser's own WebCrypto, everything it compares
// from record.json: its SHA-256 (the canonical hash), the Pith number (year of
// metadata.submitted_at, base32 of the digest), the source id and version, and the title
// hash of the title shown on the page (lower-cased, as the registry hashes it); then it
// checks the registry's Ed25519 signature over the 32 digest bytes. Each is compared with
// what the page shows, and on a page whose verdict is "failed" it never reports success.
//
// This script is served by the mirror, so against a hostile mirror it proves nothing; the
// page says so. The key is the one this mirror serves, unless the visitor pins a trust root
// (the registry's key, or its fingerprint) in localStorage, which every page of the same
// origin shares. Every step says in words what it found.

const STORE = 'pith-sitegen:trust-root';
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes) {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(text) {
  return Uint8Array.from(text.match(/../g), (pair) => parseInt(pair, 16));
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// The registry's two fingerprint forms: first 16 bytes of SHA-256 of the raw key in hex,
// and the first 26 base32 characters of that SHA-256.
export async function fingerprints(key) {
  const digest = await sha256(key);
  return { hex: toHex(digest.slice(0, 16)), b32: base32(digest).slice(0, 26) };
}

const SPKI_ED25519 = '302a300506032b6570032100';

// A trust root from what a visitor pastes: a 32-byte key (base64, hex, PEM, or the
// registry's key JSON) or a fingerprint (32 hex digits, or 26 base32 characters).
// Throws an Error whose message says what was expected.
export function parseTrustRoot(text) {
  let value = text.trim();
  if (value.startsWith('{')) {
    let doc;
    try {
      doc = JSON.parse(value);
    } catch {
      throw new Error('that looks like JSON but does not parse');
    }
    const key = doc.public_key && typeof doc.public_key === 'object' ? doc.public_key : doc;
    value = String(key.public_key_b64 || key.public_key_hex || '');
  }
  if (value.startsWith('-----BEGIN PUBLIC KEY-----')) {
    const body = value.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const der = /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? toHex(fromBase64(body)) : '';
    if (der.length !== 88 || !der.startsWith(SPKI_ED25519)) {
      throw new Error('that PEM is not an Ed25519 public key');
    }
    value = der.slice(SPKI_ED25519.length);
  }
  const compact = value.replace(/\s+/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(compact)) return { key: compact.toLowerCase() };
  if (/^[0-9a-fA-F]{32}$/.test(compact)) return { fingerprint: compact.toLowerCase() };
  if (/^[A-Z2-7]{26}$/.test(compact)) return { fingerprint_b32: compact };
  if (/^[A-Za-z0-9+/]{43}=$/.test(compact)) return { key: toHex(fromBase64(compact)) };
  throw new Error('paste a 32-byte Ed25519 public key (base64 or hex) or its fingerprint '
    + '(32 hex digits, or the 26-character base32 form)');
}

function loadTrustRoot() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORE) || 'null');
    return stored && typeof stored === 'object' ? stored : null;
  } catch {
    return null;
  }
}

class StepFailed extends Error {}
class NotCheckable extends Error {}

// The bytes at url, never from the cache.
async function fetchBytes(name, url) {
  let response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (error) {
    throw new StepFailed(`could not fetch ${name}: ${error.message}`);
  }
  if (!response.ok) throw new StepFailed(`could not fetch ${name}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// The key the signature is checked with, and in words where it came from.
async function resolveKey(paper, pinned) {
  if (pinned && pinned.key) {
    return { key: fromHex(pinned.key), source: 'the key you pinned' };
  }
  const bytes = await fetchBytes("this mirror's key list", new URL('keys/index.json', paper.root));
  let listed;
  try {
    listed = JSON.parse(new TextDecoder().decode(bytes)).keys.find((k) => k.key_id === paper.keyId);
  } catch {
    throw new StepFailed("this mirror's key list (keys/index.json) is not the expected JSON");
  }
  if (!listed) {
    throw new NotCheckable(`this mirror does not trust key ${paper.keyId}, so serves no copy of it; `
      + 'pin the registry\'s key to check the signature');
  }
  let key;
  try {
    key = parseTrustRoot(String(listed.public_key_hex || ''));
  } catch (error) {
    throw new StepFailed(`this mirror's entry for key ${paper.keyId} holds no usable key: ${error.message}`);
  }
  if (!key.key) throw new StepFailed(`this mirror's entry for key ${paper.keyId} holds no key`);
  const fp = await fingerprints(fromHex(key.key));
  if (pinned && (pinned.fingerprint || pinned.fingerprint_b32)) {
    const want = pinned.fingerprint || pinned.fingerprint_b32;
    if (fp.hex !== want && fp.b32 !== want) {
      throw new StepFailed(`the key this mirror serves has fingerprint ${fp.hex}, `
        + `not the fingerprint you pinned (${want}): it is not your trust root`);
    }
    return { key: fromHex(key.key), source: 'served by this mirror, matching the fingerprint you pinned' };
  }
  return { key: fromHex(key.key), source: 'served by this mirror' };
}

// The record's field at a path of keys, as text; a StepFailed naming the field when it is absent.
function field(record, ...path) {
  let value = record;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !(key in value)) {
      throw new StepFailed(`record.json has no ${path.join('.')}`);
    }
    value = value[key];
  }
  return String(value);
}

function steps(paper) {
  const found = {};
  return [
    ['Fetch record.json', async () => {
      found.record = await fetchBytes('record.json', new URL('record.json', document.baseURI));
      try {
        found.parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(found.record));
      } catch {
        throw new StepFailed(`record.json (${found.record.length} bytes) is not UTF-8 JSON`);
      }
      return `received ${found.record.length} bytes of the canonical record`;
    }],
    ['Canonical SHA-256', async () => {
      if (!found.record) throw new NotCheckable('no record to hash');
      found.digest = await sha256(found.record);
      const got = toHex(found.digest);
      if (got !== paper.canonicalSha256) {
        throw new StepFailed(`SHA-256 of record.json is ${got}, but this page shows the canonical hash `
          + `${paper.canonicalSha256}: the record is not the one this page describes`);
      }
      return `SHA-256 of record.json is ${got}, the canonical hash this page shows`;
    }],
    ['Pith number', async () => {
      if (!found.digest || !found.parsed) throw new NotCheckable('no record to derive it from');
      const submitted = field(found.parsed, 'metadata', 'submitted_at');
      const year = submitted.slice(0, 4);
      if (!/^[0-9]{4}$/.test(year)) {
        throw new StepFailed(`metadata.submitted_at of record.json (${submitted}) does not start with a year`);
      }
      const derived = `pith:${year}:${base32(found.digest).slice(0, 26)}`;
      if (derived !== paper.pithNumber) {
        throw new StepFailed(`record.json gives ${derived}, but this page shows ${paper.pithNumber}`);
      }
      return `the year of metadata.submitted_at and base32 of the digest give ${derived}, the Pith number this page shows`;
    }],
    ['Source', async () => {
      if (!found.parsed) throw new NotCheckable('no record to read');
      const derived = `${field(found.parsed, 'source', 'id')} version ${field(found.parsed, 'source', 'version')}`;
      const shown = `${paper.sourceId} version ${paper.sourceVersion}`;
      if (derived !== shown) {
        throw new StepFailed(`record.json names ${derived}, but this page shows ${shown}`);
      }
      return `record.json names ${derived}, the source this page shows`;
    }],
    ['Title hash', async () => {
      if (!found.parsed) throw new NotCheckable('no record to read');
      if (!paper.titleFromSnapshot) {
        throw new NotCheckable('this page shows no title from the registry (the state has no graph snapshot)');
      }
      const stated = field(found.parsed, 'metadata', 'title_canon_sha256');
      // toLowerCase and Python's str.lower apply the same Unicode case mapping.
      const got = toHex(await sha256(new TextEncoder().encode(paper.title().toLowerCase())));
      if (got !== stated) {
        throw new StepFailed(`SHA-256 of the title shown on this page, lower-cased, is ${got}, but `
          + `record.json's metadata.title_canon_sha256 is ${stated}: the title is not the one the registry signed`);
      }
      return `SHA-256 of the title shown on this page, lower-cased, is ${got}, record.json's title hash`;
    }],
    ['Registry key', async () => {
      const chosen = await resolveKey(paper, loadTrustRoot());
      found.key = chosen.key;
      const fp = await fingerprints(chosen.key);
      paper.showKey(fp.hex, chosen.source);
      if (fp.hex !== paper.keyFingerprint) {
        throw new StepFailed(`key with fingerprint ${fp.hex} (${chosen.source}), but the receipt `
          + `names key ${paper.keyId} with fingerprint ${paper.keyFingerprint}`);
      }
      return `key ${paper.keyId}, fingerprint ${fp.hex}, ${chosen.source}`;
    }],
    ['Ed25519 signature', async () => {
      const signature = await fetchBytes('signature.bin', new URL('signature.bin', document.baseURI));
      if (signature.length !== 64) {
        throw new StepFailed(`signature.bin has ${signature.length} bytes; an Ed25519 signature has 64`);
      }
      if (!found.digest) throw new NotCheckable('no digest to check the signature over');
      if (!found.key) throw new NotCheckable('no key to check the signature with');
      let key;
      try {
        key = await crypto.subtle.importKey('raw', found.key, { name: 'Ed25519' }, false, ['verify']);
      } catch (error) {
        throw new NotCheckable(`this browser's WebCrypto cannot use Ed25519 keys (${error.name})`);
      }
      const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, found.digest);
      if (!ok) {
        throw new StepFailed('signature.bin does not verify over the 32 digest bytes with this key: '
          + 'the record, the signature or the key is not the registry\'s');
      }
      return 'signature.bin verifies over the 32 digest bytes with this key';
    }],
    ['This page\'s verdict', async () => {
      if (paper.verdict === 'failed') {
        throw new StepFailed(`this build found the paper failed (${paper.failedChecks}); `
          + 'the steps above do not make every check the build makes, so this is not a pass');
      }
      return `this build's verdict is ${paper.verdict}, with no failed check`;
    }],
  ];
}

function start() {
  const section = document.getElementById('recheck');
  if (!section) return;
  const ui = section.querySelector('.recheck-ui');
  const list = document.getElementById('recheck-steps');
  const result = document.getElementById('recheck-result');
  const run = document.getElementById('recheck-run');
  const pinInput = document.getElementById('pin-key');
  const pinStatus = document.getElementById('pin-status');
  const data = section.dataset;
  const paper = {
    pithNumber: data.pithNumber,
    canonicalSha256: data.canonicalSha256,
    keyId: data.keyId,
    keyFingerprint: data.keyFingerprint,
    sourceId: data.sourceId,
    sourceVersion: data.sourceVersion,
    titleFromSnapshot: data.titleFrom === 'snapshot',
    verdict: data.verdict,
    failedChecks: data.failedChecks,
    title: () => document.getElementById('paper-title').textContent,
    root: new URL(data.root, document.baseURI),
    showKey(fingerprint, source) {
      document.getElementById('recheck-fp').textContent = fingerprint;
      document.getElementById('recheck-key-source').textContent = `(${source})`;
    },
  };

  function describePin() {
    const pinned = loadTrustRoot();
    if (!pinned) {
      pinStatus.textContent = 'No trust root pinned: the re-check uses the key this mirror serves.';
    } else if (pinned.key) {
      fingerprints(fromHex(pinned.key)).then((fp) => {
        pinStatus.textContent = `Pinned: a key with fingerprint ${fp.hex}. The re-check uses it instead of the mirror's.`;
      });
    } else {
      pinStatus.textContent = `Pinned: fingerprint ${pinned.fingerprint || pinned.fingerprint_b32}. `
        + 'The key this mirror serves must match it.';
    }
  }

  document.getElementById('pin-save').addEventListener('click', () => {
    try {
      localStorage.setItem(STORE, JSON.stringify(parseTrustRoot(pinInput.value)));
      pinInput.value = '';
      describePin();
    } catch (error) {
      pinStatus.textContent = `Not pinned: ${error.message}.`;
    }
  });
  document.getElementById('pin-clear').addEventListener('click', () => {
    localStorage.removeItem(STORE);
    describePin();
  });

  run.addEventListener('click', async () => {
    run.disabled = true;
    list.replaceChildren();
    result.className = '';
    result.textContent = 'Re-checking…';
    const outcomes = [];
    for (const [name, check] of steps(paper)) {
      const item = document.createElement('li');
      let outcome;
      try {
        outcome = { name, status: 'passed', text: await check() };
      } catch (error) {
        const text = error instanceof StepFailed || error instanceof NotCheckable
          ? error.message : `unexpected error: ${error}`;
        outcome = { name, status: error instanceof NotCheckable ? 'not checked' : 'failed', text };
      }
      outcomes.push(outcome);
      item.className = { passed: 'ok', failed: 'fail', 'not checked': 'skip' }[outcome.status];
      const label = document.createElement('strong');
      label.textContent = `${name}: ${outcome.status}`;
      item.append(label, ` — ${outcome.text}.`);
      list.append(item);
    }
    const failed = outcomes.findIndex((o) => o.status === 'failed');
    const unchecked = outcomes.findIndex((o) => o.status === 'not checked');
    if (failed >= 0) {
      const o = outcomes[failed];
      result.textContent = `Re-check failed at step ${failed + 1} (${o.name}): ${o.text}.`;
    } else if (unchecked >= 0) {
      const o = outcomes[unchecked];
      result.textContent = `Re-check incomplete at step ${unchecked + 1} (${o.name}): ${o.text}.`;
    } else {
      result.textContent = 'Re-check passed: this browser derived the canonical hash, the Pith number, '
        + 'the source and the title hash from record.json, found them as this page shows them, and '
        + 'verified the Ed25519 signature with the key above (a script this mirror serves did this).';
    }
    result.className = failed >= 0 ? 'step-fail' : unchecked >= 0 ? 'step-skip' : 'step-ok';
    run.disabled = false;
  });

  describePin();
  ui.hidden = false;
}

start();
