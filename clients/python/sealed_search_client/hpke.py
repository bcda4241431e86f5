"""HPKE tokens (docs/TOKENS.md, version 2; version 3 when bound to a client certificate): RFC 9180 base mode with DHKEM(X25519 or P-256,
HKDF-SHA256), HKDF-SHA256 and AES-128-GCM, from the primitives of the cryptography package
(Debian: python3-cryptography) and nothing else."""
import base64
import struct

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KEM_P256, KEM_X25519 = 0x0010, 0x0020  # RFC 9180 §7.1
KDF_HKDF_SHA256, AEAD_AES_128_GCM = 0x0001, 0x0001  # RFC 9180 §7.2, §7.3
TOKEN_VERSION = 0x02
TOKEN_VERSION_BOUND = 0x03  # version 2's layout, bound to the sender's client certificate
TOKEN_INFO_LABEL = b"sealed-search mbi v1"


def b64url_decode(text, length, name):
    """Strict base64url of exactly length bytes (the one canonical spelling)."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        data = None
    if data is None or len(data) != length or b64url_encode(data) != text:
        raise ValueError(f"the gateway key's {name} is not base64url of {length} bytes")
    return data


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def labeled_extract(suite_id, salt, label, ikm):
    """RFC 9180 §4: HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm)."""
    mac = hmac.HMAC(salt, hashes.SHA256())  # an empty salt is HashLen zeros (RFC 5869 §2.2)
    mac.update(b"HPKE-v1" + suite_id + label + ikm)
    return mac.finalize()


def labeled_expand(suite_id, prk, label, info, length):
    """RFC 9180 §4: HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)."""
    labeled_info = struct.pack(">H", length) + b"HPKE-v1" + suite_id + label + info
    return HKDFExpand(hashes.SHA256(), length, labeled_info).derive(prk)


def _dh(kem_id, private_key, public_bytes):
    """DH(sk, pk): the X25519 output, or the x-coordinate of the P-256 point (RFC 9180 §7.1.1)."""
    if kem_id == KEM_X25519:
        shared = private_key.exchange(x25519.X25519PublicKey.from_public_bytes(public_bytes))
        if shared == bytes(32):  # RFC 9180 §7.1.4: a small-order point
            raise ValueError("the key agreement gave the all-zero value")
        return shared
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_bytes)
    return private_key.exchange(ec.ECDH(), point)


def encap(kem_id, pk_r):
    """RFC 9180 §4.1 Encap(pkR) with a fresh ephemeral key: (shared_secret, enc)."""
    if kem_id == KEM_X25519:
        sk_e = x25519.X25519PrivateKey.generate()
        enc = sk_e.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    else:
        sk_e = ec.generate_private_key(ec.SECP256R1())
        enc = sk_e.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    suite_id = b"KEM" + struct.pack(">H", kem_id)
    eae_prk = labeled_extract(suite_id, b"", b"eae_prk", _dh(kem_id, sk_e, pk_r))
    return labeled_expand(suite_id, eae_prk, b"shared_secret", enc + pk_r, 32), enc


def key_schedule(suite_id, shared_secret, info):
    """RFC 9180 §5.1 KeySchedule for mode_base (no PSK): (key, base_nonce)."""
    psk_id_hash = labeled_extract(suite_id, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(suite_id, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = labeled_extract(suite_id, shared_secret, b"secret", b"")
    key = labeled_expand(suite_id, secret, b"key", context, 16)
    base_nonce = labeled_expand(suite_id, secret, b"base_nonce", context, 12)
    return key, base_nonce


def recipient(key):
    """The KEM and SerializePublicKey(pkR) of a JWKS key (RFC 9180 §7.1.1)."""
    if key.get("kty") == "OKP" and key.get("crv") == "X25519":
        return KEM_X25519, b64url_decode(key.get("x", ""), 32, "x")
    if key.get("kty") == "EC" and key.get("crv") == "P-256":
        x = b64url_decode(key.get("x", ""), 32, "x")
        return KEM_P256, b"\x04" + x + b64url_decode(key.get("y", ""), 32, "y")
    raise ValueError("the gateway key is neither OKP X25519 nor EC P-256")


def token_header(key_id, kem_id, bound=False):
    """hdr = version || key_id || kem_id || kdf_id || aead_id (docs/TOKENS.md)."""
    version = TOKEN_VERSION_BOUND if bound else TOKEN_VERSION
    return struct.pack(">BHHHH", version, key_id, kem_id, KDF_HKDF_SHA256, AEAD_AES_128_GCM)


def token_info(header, thumbprint, cert_thumbprint=None):
    """HPKE info: label || 0x00 || hdr || thumbprint, and for version 3 the SHA-256 of the
    sender's client certificate last (the gateway takes it from the connection)."""
    info = TOKEN_INFO_LABEL + b"\x00" + header + thumbprint
    return info if cert_thumbprint is None else info + cert_thumbprint


def seal_hpke(key, plaintext, cert_thumbprint=None):
    """Seals plaintext (bytes) to a gateway JWK that publishes an hpke_key_id; returns the token.
    cert_thumbprint (32 bytes, binding.py) makes it a version 3 token bound to that certificate."""
    key_id = key.get("hpke_key_id")
    if isinstance(key_id, bool) or not isinstance(key_id, int) or not 1 <= key_id <= 0xFFFF:
        raise ValueError("the gateway key has no hpke_key_id (1 to 65535): use JWE with this key")
    # The kid is the key's RFC 7638 SHA-256 thumbprint: 32 bytes, bound through info.
    thumbprint = b64url_decode(key.get("kid", ""), 32, "kid")
    if cert_thumbprint is not None and len(cert_thumbprint) != 32:
        raise ValueError("the certificate thumbprint must be 32 bytes")
    kem_id, pk_r = recipient(key)
    header = token_header(key_id, kem_id, cert_thumbprint is not None)
    shared_secret, enc = encap(kem_id, pk_r)
    suite_id = b"HPKE" + header[3:]  # "HPKE" || kem_id || kdf_id || aead_id
    info = token_info(header, thumbprint, cert_thumbprint)
    aead_key, base_nonce = key_schedule(suite_id, shared_secret, info)
    # Sequence number 0, so the nonce is base_nonce; the header is the associated data.
    ciphertext = AESGCM(aead_key).encrypt(base_nonce, plaintext, header)
    return b64url_encode(header + enc + ciphertext)
