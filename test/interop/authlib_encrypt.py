#!/usr/bin/python3
"""Encrypts an MBI (or a {"mbi","iat","exp"} claims object) to a sealed-search gateway key.

usage: authlib_encrypt.py JWKS_FILE ALG ENC [--kid=KID] < plaintext

Uses Authlib (Debian: python3-authlib). The plaintext is read from standard input, never from
the command line, where other local users could see it. Prints the JWE compact token.
The gateway accepts alg ECDH-ES or ECDH-ES+A256KW and enc A256GCM or A128GCM.
"""
import argparse
import base64
import json
import sys

from authlib.jose import JsonWebEncryption, JsonWebKey

# RFC 7518 §6.2.1.2: an EC coordinate is the full size for its curve (32 octets for P-256).
# Authlib drops leading zero octets from the ephemeral key's P-256 coordinates (about 1 token
# in 130), and the gateway refuses such a token; it is simply made again with a fresh key.
FULL_SIZE = {"P-256": 32, "X25519": 32}
ATTEMPTS = 8


def full_size_epk(token):
    protected = token.split(b".", 1)[0]
    header = json.loads(base64.urlsafe_b64decode(protected + b"=" * (-len(protected) % 4)))
    epk = header["epk"]
    size = FULL_SIZE.get(epk["crv"])
    return all(len(base64.urlsafe_b64decode(epk[c] + "==")) == size for c in ("x", "y") if c in epk)


def main():
    parser = argparse.ArgumentParser(description="Encrypt an MBI to a sealed-search gateway key.")
    parser.add_argument("jwks", help="the gateway's public JWKS (/.well-known/jwks.json)")
    parser.add_argument("alg", help="ECDH-ES or ECDH-ES+A256KW")
    parser.add_argument("enc", help="A256GCM or A128GCM")
    parser.add_argument("--kid", help="the key to encrypt to, as --kid=KID (a kid may begin with -); default: the first key")
    args = parser.parse_args()

    with open(args.jwks, encoding="utf-8") as f:
        keys = json.load(f)["keys"]
    usable = [k for k in keys if k.get("use", "enc") == "enc"]
    chosen = [k for k in usable if k.get("kid") == args.kid] if args.kid else usable[:1]
    if not chosen or not chosen[0].get("kid"):
        sys.exit("no such encryption key with a kid in the JWKS")
    kid = chosen[0]["kid"]
    key = JsonWebKey.import_key(chosen[0])

    # Drop the line end that `echo` adds; the gateway does not trim.
    plaintext = sys.stdin.buffer.read().rstrip(b"\r\n")
    if not plaintext:
        sys.exit("nothing to encrypt on standard input")

    for _ in range(ATTEMPTS):
        # Exactly alg, enc and kid; Authlib adds the ephemeral public key (epk) itself.
        header = {"alg": args.alg, "enc": args.enc, "kid": kid}
        token = JsonWebEncryption().serialize_compact(header, plaintext, key)
        if full_size_epk(token):
            print(token.decode("ascii"))
            return
    sys.exit("could not make a token with a full-size ephemeral key")


if __name__ == "__main__":
    main()
