"""Usage: python3 thumbprints.py jwks.json

Prints each key's curve (or, for the X-Wing key, its algorithm), its RFC 7638 SHA-256 thumbprint
recomputed from the key, and the kid the file claims: compare the thumbprint with the one the
operator gave you over a second channel. Python 3 standard library only.
"""
import base64
import hashlib
import json
import sys

REQUIRED = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "AKP": ("alg", "kty", "pub")}

for k in json.load(open(sys.argv[1], encoding="utf-8"))["keys"]:
    members = REQUIRED[k["kty"]]
    canonical = json.dumps({m: k[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    name = k["alg"] if k["kty"] == "AKP" else k["crv"]
    print(name, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"), k["kid"])
