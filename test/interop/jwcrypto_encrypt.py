#!/usr/bin/python3
"""Encrypts an MBI (or a {"mbi","iat","exp"} claims object) to a sealed-search gateway key.

usage: jwcrypto_encrypt.py JWKS_FILE ALG ENC [--kid=KID] < plaintext

Uses jwcrypto (Debian: python3-jwcrypto). The plaintext is read from standard input, never from
the command line, where other local users could see it. Prints the JWE compact token.
The gateway accepts alg ECDH-ES or ECDH-ES+A256KW and enc A256GCM or A128GCM.
"""
import argparse
import json
import sys

from jwcrypto import jwe, jwk


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
    key = jwk.JWK(**chosen[0])

    # Drop the line end that `echo` adds; the gateway does not trim.
    plaintext = sys.stdin.buffer.read().rstrip(b"\r\n")
    if not plaintext:
        sys.exit("nothing to encrypt on standard input")

    # Exactly alg, enc and kid; jwcrypto adds the ephemeral public key (epk) itself.
    header = {"alg": args.alg, "enc": args.enc, "kid": kid}
    token = jwe.JWE(plaintext, protected=json.dumps(header))
    token.add_recipient(key)
    print(token.serialize(compact=True))


if __name__ == "__main__":
    main()
