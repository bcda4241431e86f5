#!/usr/bin/python3
"""Seals an MBI (or a {"mbi","iat","exp"} claims object) to a sealed-search gateway key as an
HPKE token (docs/TOKENS.md, version 2; version 3 with --bind-cert).

usage: hpke_encrypt.py JWKS_FILE [--kid=KID] [--bind-cert=CERT_FILE] < plaintext

HPKE base mode (RFC 9180) with DHKEM(X25519 or P-256, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM,
built from the primitives of the `cryptography` package (Debian: python3-cryptography) and
nothing else. The plaintext is read from standard input, never from the command line, where
other local users could see it. Prints the token.
"""
import argparse
import base64
import json
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KEM_P256, KEM_X25519 = 0x0010, 0x0020  # RFC 9180 §7.1
KDF_HKDF_SHA256, AEAD_AES_128_GCM = 0x0001, 0x0001  # RFC 9180 §7.2, §7.3
VERSION, VERSION_BOUND = 0x02, 0x03
LABEL = b"sealed-search mbi v1"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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


def dh(kem_id, private_key, public_bytes):
    """DH(sk, pk): the X25519 output, or the x-coordinate of the P-256 point (RFC 9180 §7.1.1)."""
    if kem_id == KEM_X25519:
        shared = private_key.exchange(x25519.X25519PublicKey.from_public_bytes(public_bytes))
        if shared == bytes(32):  # RFC 9180 §7.1.4: a small-order point
            raise ValueError("the key agreement gave the all-zero value")
        return shared
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_bytes)
    return private_key.exchange(ec.ECDH(), point)


def extract_and_expand(kem_id, dh_value, kem_context):
    """RFC 9180 §4.1 ExtractAndExpand, under the KEM's own suite_id."""
    suite_id = b"KEM" + struct.pack(">H", kem_id)
    eae_prk = labeled_extract(suite_id, b"", b"eae_prk", dh_value)
    return labeled_expand(suite_id, eae_prk, b"shared_secret", kem_context, 32)


def encap(kem_id, pk_r):
    """RFC 9180 §4.1 Encap(pkR) with a fresh ephemeral key: (shared_secret, enc)."""
    if kem_id == KEM_X25519:
        sk_e = x25519.X25519PrivateKey.generate()
        enc = sk_e.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    else:
        sk_e = ec.generate_private_key(ec.SECP256R1())
        enc = sk_e.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return extract_and_expand(kem_id, dh(kem_id, sk_e, pk_r), enc + pk_r), enc


def key_schedule(suite_id, shared_secret, info):
    """RFC 9180 §5.1 KeySchedule for mode_base (no PSK): (key, base_nonce)."""
    psk_id_hash = labeled_extract(suite_id, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(suite_id, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = labeled_extract(suite_id, shared_secret, b"secret", b"")
    key = labeled_expand(suite_id, secret, b"key", context, 16)
    base_nonce = labeled_expand(suite_id, secret, b"base_nonce", context, 12)
    return key, base_nonce


def recipient(jwk):
    """The KEM and SerializePublicKey(pkR) of a JWKS key (RFC 9180 §7.1.1)."""
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "X25519":
        return KEM_X25519, b64url_decode(jwk["x"])
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        return KEM_P256, b"\x04" + b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])
    raise ValueError("the key is neither OKP X25519 nor EC P-256")


def certificate_thumbprint(path):
    """SHA-256 of the client certificate's DER (RFC 8705 §3.1 x5t#S256), from a PEM or DER file."""
    with open(path, "rb") as f:
        data = f.read()
    cert = x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----") else x509.load_der_x509_certificate(data)
    return cert.fingerprint(hashes.SHA256())


def seal_token(jwk, plaintext, cert_thumbprint=None):
    kem_id, pk_r = recipient(jwk)
    key_id = jwk.get("hpke_key_id")
    thumbprint = b64url_decode(jwk["kid"])  # the kid is the key's RFC 7638 SHA-256 thumbprint
    if not isinstance(key_id, int) or not 1 <= key_id <= 0xFFFF or len(thumbprint) != 32:
        raise ValueError("the key has no hpke_key_id or its kid is not a thumbprint")
    version = VERSION if cert_thumbprint is None else VERSION_BOUND
    header = struct.pack(">BHHHH", version, key_id, kem_id, KDF_HKDF_SHA256, AEAD_AES_128_GCM)
    info = LABEL + b"\x00" + header + thumbprint
    if cert_thumbprint is not None:  # version 3: bound to the sender's client certificate
        info += cert_thumbprint
    shared_secret, enc = encap(kem_id, pk_r)
    suite_id = b"HPKE" + header[3:]  # "HPKE" || kem_id || kdf_id || aead_id
    key, base_nonce = key_schedule(suite_id, shared_secret, info)
    # Sequence number 0, so the nonce is base_nonce; the header is the associated data.
    ciphertext = AESGCM(key).encrypt(base_nonce, plaintext, header)
    return b64url_encode(header + enc + ciphertext)


def main():
    parser = argparse.ArgumentParser(description="Seal an MBI to a sealed-search gateway key.")
    parser.add_argument("jwks", help="the gateway's public JWKS (/.well-known/jwks.json)")
    parser.add_argument("--kid", help="the key to encrypt to, as --kid=KID (a kid may begin with -); default: the first HPKE key")
    parser.add_argument("--bind-cert", help="bind the token to this client certificate (PEM or DER file)")
    args = parser.parse_args()

    with open(args.jwks, encoding="utf-8") as f:
        keys = json.load(f)["keys"]
    usable = [k for k in keys if k.get("use", "enc") == "enc" and "hpke_key_id" in k]
    chosen = [k for k in usable if k.get("kid") == args.kid] if args.kid else usable[:1]
    if not chosen:
        sys.exit("no such encryption key with an hpke_key_id in the JWKS")

    # Drop the line end that `echo` adds; the gateway does not trim.
    plaintext = sys.stdin.buffer.read().rstrip(b"\r\n")
    if not plaintext:
        sys.exit("nothing to encrypt on standard input")
    bound = certificate_thumbprint(args.bind_cert) if args.bind_cert else None
    print(seal_token(chosen[0], plaintext, bound))


if __name__ == "__main__":
    main()
