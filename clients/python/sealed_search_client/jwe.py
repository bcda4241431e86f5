"""JWE compact tokens (RFC 7516) with jwcrypto (Debian: python3-jwcrypto)."""
import base64
import json

from jwcrypto import jwe, jwk

ALGS = ("ECDH-ES", "ECDH-ES+A256KW")
ENCS = ("A256GCM", "A128GCM")


def protected_header(key, alg="ECDH-ES", enc="A256GCM", cert_thumbprint=None):
    """alg, enc and kid (docs/PARTNERS.md §3); jwcrypto adds the epk. With cert_thumbprint (the
    32-byte SHA-256 of the partner's client certificate) also x5t#S256 (RFC 8705 §3.1), which
    the AAD covers: the gateway then opens the token only over that certificate."""
    if alg not in ALGS:
        raise ValueError("alg must be ECDH-ES or ECDH-ES+A256KW")
    if enc not in ENCS:
        raise ValueError("enc must be A256GCM or A128GCM")
    if not key.get("kid"):
        raise ValueError("the gateway key has no kid")
    header = {"alg": alg, "enc": enc, "kid": key["kid"]}
    if cert_thumbprint is not None:
        if len(cert_thumbprint) != 32:
            raise ValueError("the certificate thumbprint must be 32 bytes")
        header["x5t#S256"] = base64.urlsafe_b64encode(cert_thumbprint).rstrip(b"=").decode("ascii")
    return header


def seal_jwe(key, plaintext, alg="ECDH-ES", enc="A256GCM", cert_thumbprint=None):
    """Encrypts plaintext (bytes) to a gateway JWK (a dict from its JWKS); returns the token.
    cert_thumbprint binds it to the sender's client certificate (binding.py)."""
    header = protected_header(key, alg, enc, cert_thumbprint)
    public = {m: key[m] for m in ("kty", "crv", "x", "y") if m in key}
    token = jwe.JWE(plaintext, protected=json.dumps(header))
    token.add_recipient(jwk.JWK(**public))
    return token.serialize(compact=True)
