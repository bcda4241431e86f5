"""Usage: python3 search.py GATEWAY_URL < mbi.txt

Encrypts the MBI on standard input to the gateway's X25519 key as an HPKE token, searches, and
prints the matching Patient ids. sealed_search_client must be importable (PYTHONPATH).
"""
import sys

from sealed_search_client import JwksCache, error_code, search_patients

gateway = sys.argv[1]
mbi = sys.stdin.read().strip()

# Fetched once; fetched again (at most once per 10 s) when the gateway answers
# ERR_TOKEN_KID_UNKNOWN, and the search retried once with another key of the curve.
jwks = JwksCache(f"{gateway}/.well-known/jwks.json")
status, body, kid, retried = search_patients(gateway, mbi, jwks, "X25519", "hpke", ttl_seconds=300)
if body["resourceType"] != "Bundle":
    sys.exit(f"refused: {error_code(body)}")
for entry in body.get("entry", []):
    print(entry["resource"]["id"])
