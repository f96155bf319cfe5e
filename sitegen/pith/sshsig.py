"""The operator's signature over a site's ``SHA256SUMS``, in OpenSSH's SSHSIG format (layer 1, pure).

The registry's receipts prove a record is the registry's; they say nothing of what a host or
CDN serves beside it. A mirror operator may sign the site's ``SHA256SUMS`` with the mirror's
own Ed25519 key so anyone can tell that what is served is what the operator built. The
signature file is what ``ssh-keygen -Y sign -n pith-sitegen-manifest`` writes
(OpenSSH ``PROTOCOL.sshsig``), so standard tools check it::

    ssh-keygen -Y verify -f allowed_signers -I mirror -n pith-sitegen-manifest \\
        -s SHA256SUMS.sig < SHA256SUMS

where ``allowed_signers`` holds a line ``mirror ssh-ed25519 AAAA...``. Only Ed25519 keys
are made or accepted here; the message is hashed with SHA-512, as ``ssh-keygen`` does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sitegen.errors import SignatureError

__all__ = [
    "MANIFEST_NAMESPACE",
    "SIGNATURE_SUFFIX",
    "OperatorKey",
    "OperatorPublicKey",
    "load_private_key",
    "load_public_key",
    "sign",
    "verify",
]

MANIFEST_NAMESPACE = "pith-sitegen-manifest"
"""What the signature is for (SSHSIG's namespace): a signature made for another purpose never passes."""
SIGNATURE_SUFFIX = ".sig"
"""The signature of ``SHA256SUMS`` is served beside it as ``SHA256SUMS.sig``."""
OperatorKey = Ed25519PrivateKey
"""The mirror operator's signing key (other modules name it so, and never import cryptography)."""
OperatorPublicKey = Ed25519PublicKey
_MAGIC = b"SSHSIG"
_VERSION = 1
_KEY_TYPE = b"ssh-ed25519"
_HASH = "sha512"
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _strings(blob: bytes, count: int) -> list[bytes]:
    """``count`` SSH strings read from ``blob``, which must hold exactly those."""
    parts: list[bytes] = []
    at = 0
    for _ in range(count):
        if len(blob) < at + 4:
            raise SignatureError("truncated")
        (length,) = struct.unpack(">I", blob[at : at + 4])
        at += 4
        if len(blob) < at + length:
            raise SignatureError("truncated")
        parts.append(blob[at : at + length])
        at += length
    if at != len(blob):
        raise SignatureError("trailing bytes")
    return parts


def _key_blob(key: Ed25519PublicKey) -> bytes:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _string(_KEY_TYPE) + _string(raw)


def _signed_data(message: bytes, namespace: str, hash_name: str = _HASH) -> bytes:
    """What SSHSIG signs: the preamble, the namespace, and the message's hash."""
    digest = hashlib.new(hash_name, message).digest()
    return _MAGIC + _string(namespace.encode()) + _string(b"") + _string(hash_name.encode()) + _string(digest)


def load_private_key(data: bytes) -> Ed25519PrivateKey:
    """An unencrypted OpenSSH (or PEM) Ed25519 private key.

    Raises:
        SignatureError: not such a key.
    """
    try:
        key = (
            serialization.load_ssh_private_key(data, password=None)
            if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
            else serialization.load_pem_private_key(data, password=None)
        )
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"not an unencrypted Ed25519 private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"a {type(key).__name__}, not an Ed25519 key")
    return key


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """The Ed25519 key of an OpenSSH public key line (``ssh-ed25519 AAAA... comment``) or of an
    ``allowed_signers`` line (``principal ssh-ed25519 AAAA...``); the first line that has one.

    Raises:
        SignatureError: no line holds an ``ssh-ed25519`` key.
    """
    for line in data.decode("utf-8", errors="replace").splitlines():
        words = line.split()
        if "ssh-ed25519" in words and words.index("ssh-ed25519") + 1 < len(words):
            encoded = words[words.index("ssh-ed25519") + 1]
            try:
                key = serialization.load_ssh_public_key(f"ssh-ed25519 {encoded}".encode())
            except (ValueError, binascii.Error) as exc:
                raise SignatureError(f"not an ssh-ed25519 public key ({exc})") from exc
            assert isinstance(key, Ed25519PublicKey)
            return key
    raise SignatureError("no ssh-ed25519 public key in it")


def sign(key: Ed25519PrivateKey, message: bytes, namespace: str = MANIFEST_NAMESPACE) -> bytes:
    """The armored SSHSIG signature of ``message``, byte for byte what ``ssh-keygen -Y sign`` writes.

    Ed25519 signatures are deterministic, so the same key and message give the same bytes.
    """
    signature = key.sign(_signed_data(message, namespace))
    blob = (
        _MAGIC
        + struct.pack(">I", _VERSION)
        + _string(_key_blob(key.public_key()))
        + _string(namespace.encode())
        + _string(b"")
        + _string(_HASH.encode())
        + _string(_string(_KEY_TYPE) + _string(signature))
    )
    encoded = base64.b64encode(blob).decode("ascii")
    lines = [encoded[at : at + 70] for at in range(0, len(encoded), 70)]
    return "\n".join([_BEGIN, *lines, _END, ""]).encode("ascii")


def verify(
    key: Ed25519PublicKey, armored: bytes, message: bytes, namespace: str = MANIFEST_NAMESPACE
) -> None:
    """Check that ``armored`` is ``key``'s SSHSIG signature of ``message`` for ``namespace``.

    Raises:
        SignatureError: it is not (naming why: the armor, the key, the namespace, the signature).
    """
    text = armored.decode("ascii", errors="replace").strip()
    if not (text.startswith(_BEGIN) and text.endswith(_END)):
        raise SignatureError(f"not an SSH signature (no {_BEGIN} ... {_END} armor)")
    try:
        blob = base64.b64decode("".join(text[len(_BEGIN) : -len(_END)].split()), validate=True)
    except binascii.Error as exc:
        raise SignatureError(f"the armor is not base64 ({exc})") from exc
    if blob[:6] != _MAGIC or blob[6:10] != struct.pack(">I", _VERSION):
        raise SignatureError("not an SSHSIG version 1 signature")
    public, namespace_seen, _, hash_name, signature = _strings(blob[10:], 5)
    if public != _key_blob(key):
        raise SignatureError("made with another key than the operator key given")
    if namespace_seen != namespace.encode():
        raise SignatureError(f"made for namespace {namespace_seen!r}, not {namespace!r}")
    if hash_name not in (b"sha512", b"sha256"):
        raise SignatureError(f"unknown hash algorithm {hash_name!r}")
    key_type, raw = _strings(signature, 2)
    if key_type != _KEY_TYPE:
        raise SignatureError(f"a {key_type!r} signature, not ssh-ed25519")
    try:
        key.verify(raw, _signed_data(message, namespace, hash_name.decode()))
    except InvalidSignature:
        raise SignatureError("the signature does not match these bytes of SHA256SUMS") from None
