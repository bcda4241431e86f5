"""JWE compact tokens (RFC 7516) with jwcrypto (Debian: python3-jwcrypto)."""
import json

from jwcrypto import jwe, jwk

ALGS = ("ECDH-ES", "ECDH-ES+A256KW")
ENCS = ("A256GCM", "A128GCM")


def protected_header(key, alg="ECDH-ES", enc="A256GCM"):
    """Exactly alg, enc and kid (docs/PARTNERS.md §3); jwcrypto adds the epk. A member the
    gateway is to check (a sender's certificate thumbprint, say) joins here."""
    if alg not in ALGS:
        raise ValueError("alg must be ECDH-ES or ECDH-ES+A256KW")
    if enc not in ENCS:
        raise ValueError("enc must be A256GCM or A128GCM")
    if not key.get("kid"):
        raise ValueError("the gateway key has no kid")
    return {"alg": alg, "enc": enc, "kid": key["kid"]}


def seal_jwe(key, plaintext, alg="ECDH-ES", enc="A256GCM"):
    """Encrypts plaintext (bytes) to a gateway JWK (a dict from its JWKS); returns the token."""
    header = protected_header(key, alg, enc)
    public = {m: key[m] for m in ("kty", "crv", "x", "y") if m in key}
    token = jwe.JWE(plaintext, protected=json.dumps(header))
    token.add_recipient(jwk.JWK(**public))
    return token.serialize(compact=True)
