{# Rendered once a build (Renderer.stamped_text): shows every value only as plain text. The values
   from the state file (source_id, title) come already in shell single quotes (paper_job._shell_quoted). #}
{% set recipe_site = absolute_base.rstrip('/') if absolute_base else 'https://this-mirror.example' ~ base_path.rstrip('/') %}
# Run with bash in an empty directory. Tools: curl, GNU sha256sum and base32, OpenSSL 3, python3 (reads record.json).
# It derives each value from record.json and the registry's own key, compares it with what the page shows,
# and stops at the first step that does not match, naming it (exit status 1).
SITE='{{ recipe_site|replace("'", "'\\''") }}'{% if not absolute_base %}   # set once: the address this mirror is served at{% endif %}

REGISTRY='{{ site.registry_url.rstrip('/')|replace("'", "'\\''") }}'   # the registry itself, not this mirror
# What the page shows:
PITH_NUMBER='{{ pith_number }}'
CANONICAL_SHA256='{{ hex64 }}'
SOURCE_ID={{ source_id }}
SOURCE_VERSION='{{ source_version }}'
TITLE={{ title }}{{ title_note }}
KEY_FINGERPRINT='{{ fp32 }}'
VERDICT='{{ verdict }}'
FAILED_CHECKS='{{ failed_checks }}'
fail() { echo "Re-check FAILED at step $1: $2" >&2; exit 1; }
field() { python3 -c 'import functools, json, sys; print(functools.reduce(lambda v, k: v[k], sys.argv[1:], json.load(open("record.json"))))' "$@"; }
PAPER="$SITE/pith/{{ suffix }}"
curl -fsS "$PAPER/record.json" -o record.json || fail "1 (fetch)" "could not fetch $PAPER/record.json"
curl -fsS "$PAPER/signature.bin" -o signature.bin || fail "1 (fetch)" "could not fetch $PAPER/signature.bin"
# 2. The canonical SHA-256: the SHA-256 of record.json
got=$(sha256sum record.json | cut -c1-64)
[ "$got" = "$CANONICAL_SHA256" ] || fail "2 (canonical SHA-256)" "record.json hashes to $got; the page shows $CANONICAL_SHA256"
echo "2. canonical SHA-256: $got"
# 3. The Pith number: the year of metadata.submitted_at, then base32 of the 32 digest bytes, first 26 characters
openssl dgst -sha256 -binary -out digest.bin record.json
got="pith:$(field metadata submitted_at | cut -c1-4):$(base32 -w0 digest.bin | cut -c1-26)"
[ "$got" = "$PITH_NUMBER" ] || fail "3 (Pith number)" "record.json gives $got; the page shows $PITH_NUMBER"
echo "3. Pith number: $got"
# 4. The source: source.id and source.version of record.json
got="$(field source id) version $(field source version)"
[ "$got" = "$SOURCE_ID version $SOURCE_VERSION" ] || fail "4 (source)" "record.json names $got; the page shows $SOURCE_ID version $SOURCE_VERSION"
echo "4. source: $got"
# 5. The title hash: SHA-256 of the page's title, lower-cased, must be metadata.title_canon_sha256 of record.json
if [ -z "$TITLE" ]; then
  echo "5. title hash: not checked (the page shows no title from the registry)"
else
  got=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.argv[1].lower().encode()).hexdigest())' "$TITLE")
  want=$(field metadata title_canon_sha256)
  [ "$got" = "$want" ] || fail "5 (title hash)" "the page's title hashes to $got; record.json's title hash is $want"
  echo "5. title hash: $got"
fi
# 6. The registry's key, fetched from the registry; its fingerprint must be the one above
curl -fsS "$REGISTRY/pith-signing-key.json" -o registry-key.json || fail "6 (registry key)" "could not fetch $REGISTRY/pith-signing-key.json"
printf -- '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA%s\n-----END PUBLIC KEY-----\n' \
  "$(python3 -c 'import json; k = json.load(open("registry-key.json")); print(k.get("public_key", k)["public_key_b64"])')" > registry.pem
got=$(openssl pkey -pubin -in registry.pem -outform DER | tail -c 32 | sha256sum | cut -c1-32)
[ "$got" = "$KEY_FINGERPRINT" ] || fail "6 (registry key)" "the registry's key has fingerprint $got; the receipt's key has $KEY_FINGERPRINT"
echo "6. registry key fingerprint: $got"
# 7. The registry's Ed25519 signature over the 32 digest bytes
openssl pkeyutl -verify -pubin -inkey registry.pem -rawin -in digest.bin -sigfile signature.bin \
  || fail "7 (Ed25519 signature)" "signature.bin does not verify over the digest with the registry's key"
# 8. The build's verdict: a failed page does not pass, whatever the steps above found
[ "$VERDICT" != failed ] || fail "8 (the page's verdict)" "the build found this paper failed ($FAILED_CHECKS); this recipe does not make every check the build makes"
echo "Re-check passed: record.json is the record this page shows, signed with the registry's key"
