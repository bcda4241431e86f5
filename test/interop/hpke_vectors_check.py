#!/usr/bin/python3
"""Checks the building blocks of hpke_encrypt.py against RFC 9180 Appendix A.

usage: hpke_vectors_check.py VECTORS_JSON   (test/vectors/rfc9180-base-mode.json)

For each vector: DH(skRm, enc) and ExtractAndExpand give shared_secret; the key schedule gives
key and base_nonce; AES-128-GCM seals each listed plaintext to its ciphertext. (Encap itself
draws a fresh ephemeral key, and the vectors hold no skEm; the end-to-end test covers it.)
Prints one line per vector and exits 1 on any mismatch.
"""
import json
import os
import struct
import sys

# -I leaves the script's own directory off sys.path; the module under test sits beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree

from cryptography.hazmat.primitives.asymmetric import ec, x25519  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

import hpke_encrypt as hpke  # noqa: E402


def private_key(kem_id, sk):
    if kem_id == hpke.KEM_X25519:
        return x25519.X25519PrivateKey.from_private_bytes(sk)
    return ec.derive_private_key(int.from_bytes(sk, "big"), ec.SECP256R1())


def check(v):
    kem_id = v["kem_id"]
    h = bytes.fromhex
    dh_value = hpke.dh(kem_id, private_key(kem_id, h(v["skRm"])), h(v["enc"]))
    shared_secret = hpke.extract_and_expand(kem_id, dh_value, h(v["enc"]) + h(v["pkRm"]))
    suite_id = b"HPKE" + struct.pack(">HHH", kem_id, v["kdf_id"], v["aead_id"])
    key, base_nonce = hpke.key_schedule(suite_id, shared_secret, h(v["info"]))
    failures = [
        name
        for name, got, want in [
            ("shared_secret", shared_secret.hex(), v["shared_secret"]),
            ("key", key.hex(), v["key"]),
            ("base_nonce", base_nonce.hex(), v["base_nonce"]),
        ]
        if got != want
    ]
    for e in v["encryptions"]:
        nonce = bytes(a ^ b for a, b in zip(base_nonce, e["seq"].to_bytes(12, "big")))
        if AESGCM(key).encrypt(nonce, h(e["pt"]), h(e["aad"])).hex() != e["ct"]:
            failures.append("ct of seq %d" % e["seq"])
    return failures


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        vectors = json.load(f)["vectors"]
    bad = 0
    for v in vectors:
        failures = check(v)
        bad += bool(failures)
        print(v["section"], "ok" if not failures else "MISMATCH: " + ", ".join(failures))
    sys.exit(1 if bad or not vectors else 0)


if __name__ == "__main__":
    main()
