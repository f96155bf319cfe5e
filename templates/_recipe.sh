PAPER="{{ (site.absolute_base ~ 'pith/' ~ summary.suffix) if site.absolute_base else 'https://THIS-MIRROR/pith/' ~ summary.suffix }}"
KEY_URL="{{ site.registry_url.rstrip('/') }}/pith-signing-key.json"
curl -fsS "$PAPER/record.json" -o record.json
echo "{{ state.record_canonical_sha256 }}  record.json" | sha256sum -c
sha256sum record.json | cut -c1-64 | tr a-f A-F | basenc --base16 -d > digest.bin
echo "pith:{{ summary.pith_number.split(':')[1] }}:$(base32 digest.bin | cut -c1-26)"   # expect {{ summary.pith_number }}
curl -fsS "$PAPER/signature.bin" -o signature.bin
curl -fsS "$KEY_URL" | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key_b64"])' > key.b64
printf -- '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA%s\n-----END PUBLIC KEY-----\n' "$(cat key.b64)" > registry.pem
openssl pkey -pubin -in registry.pem -outform DER | tail -c 32 | sha256sum | cut -c1-32   # expect {{ key.fingerprint_hex if key else state.receipt.public_key_fingerprint }}
openssl pkeyutl -verify -pubin -inkey registry.pem -rawin -in digest.bin -sigfile signature.bin
