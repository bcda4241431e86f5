"""Usage: python3 search.py GATEWAY_URL < mbi.txt

Encrypts the MBI on standard input to the gateway's X25519 key as an HPKE token, searches, and
prints the matching Patient ids. sealed_search_client must be importable (PYTHONPATH).
"""
import sys

from sealed_search_client import choose_key, encrypt, error_code, load_jwks, search

gateway = sys.argv[1]
mbi = sys.stdin.read().strip()

jwks = load_jwks(f"{gateway}/.well-known/jwks.json")
key = choose_key(jwks, "X25519", "hpke")  # or "P-256"; "jwe" for a JWE compact token
token = encrypt(mbi, key, "hpke", ttl_seconds=300)
status, body = search(gateway, token)
if body["resourceType"] != "Bundle":
    sys.exit(f"refused: {error_code(body)}")
for entry in body.get("entry", []):
    print(entry["resource"]["id"])
