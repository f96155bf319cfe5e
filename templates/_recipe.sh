{# Rendered once a build (Renderer.stamped_text): shows suffix, pith_number, year, hex64 and fp32 only as plain text. #}
{% set recipe_site = absolute_base.rstrip('/') if absolute_base else 'https://this-mirror.example' ~ base_path.rstrip('/') %}
# Run with bash in an empty directory. Tools: curl, GNU sha256sum and base32, OpenSSL 3, python3 (to read one JSON field).
SITE='{{ recipe_site|replace("'", "'\\''") }}'{% if not absolute_base %}   # set once: the address this mirror is served at{% endif %}

REGISTRY='{{ site.registry_url.rstrip('/')|replace("'", "'\\''") }}'   # the registry itself, not this mirror
PAPER="$SITE/pith/{{ suffix }}"
curl -fsS "$PAPER/record.json" -o record.json
curl -fsS "$PAPER/signature.bin" -o signature.bin
# 1. The canonical SHA-256 of the record; expect {{ hex64 }}
sha256sum record.json
# 2. The Pith number: base32 of the 32 digest bytes, first 26 characters; expect {{ pith_number }}
openssl dgst -sha256 -binary -out digest.bin record.json
echo "pith:{{ year }}:$(base32 -w0 digest.bin | cut -c1-26)"
# 3. The registry's key, fetched from the registry; its fingerprint must be {{ fp32 }}
curl -fsS "$REGISTRY/pith-signing-key.json" -o registry-key.json
printf -- '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA%s\n-----END PUBLIC KEY-----\n' \
  "$(python3 -c 'import json; k = json.load(open("registry-key.json")); print(k.get("public_key", k)["public_key_b64"])')" > registry.pem
openssl pkey -pubin -in registry.pem -outform DER | tail -c 32 | sha256sum | cut -c1-32
# 4. The registry's Ed25519 signature over the 32 digest bytes: expect "Signature Verified Successfully"
openssl pkeyutl -verify -pubin -inkey registry.pem -rawin -in digest.bin -sigfile signature.bin
