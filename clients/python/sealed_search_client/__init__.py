"""Partner library for a sealed-search gateway: encrypt an MBI (or a HICN) to the gateway's
public key as a JWE compact token or an HPKE token, and search with it. Only ciphertext leaves.

    from sealed_search_client import choose_key, encrypt, load_jwks, search

Needs the Python packages listed in requirements.txt beside this package's folder: jwcrypto and
cryptography (38 or later). They are checked on import, with one message that names what is
missing and how to install it.
"""
from ._requirements import require_packages

require_packages()

from .binding import certificate_thumbprint, read_certificate, tls_context
from .hpke import seal_hpke
from .identifiers import identifier_payload, normalize_hicn, normalize_mbi
from .jwe import seal_jwe
from .jwks import JwksCache, choose_key, load_jwks, parse_jwks
from .search import error_code, patient_search_url, search

FORMATS = ("jwe", "hpke")

__all__ = [
    "JwksCache",
    "certificate_thumbprint",
    "choose_key",
    "encrypt",
    "error_code",
    "identifier_payload",
    "load_jwks",
    "normalize_hicn",
    "normalize_mbi",
    "parse_jwks",
    "patient_search_url",
    "read_certificate",
    "search",
    "search_patients",
    "tls_context",
]


def encrypt(
    identifier, key, token_format="jwe", kind="mbi", ttl_seconds=None, alg=None, enc=None, bind_cert=None
):
    """A token for identifier (an MBI, or a HICN with kind="hicn") sealed to key, a JWK of the
    gateway's JWKS. token_format "jwe" (alg ECDH-ES or ECDH-ES+A256KW, enc A256GCM or A128GCM)
    or "hpke" (the key must publish an hpke_key_id). bind_cert (the partner's mTLS client
    certificate, PEM or DER) binds the token to it: JWE x5t#S256, HPKE version 3. The identifier
    is validated first; a ValueError never holds it."""
    plaintext = identifier_payload(identifier, kind, ttl_seconds)
    if token_format not in FORMATS:
        raise ValueError("token_format must be jwe or hpke")
    cert = None if bind_cert is None else certificate_thumbprint(bind_cert)
    if token_format == "jwe":
        return seal_jwe(key, plaintext, alg or "ECDH-ES", enc or "A256GCM", cert)
    if alg is not None or enc is not None:
        raise ValueError("alg and enc apply to the jwe format only")
    return seal_hpke(key, plaintext, cert)


def search_patients(
    base_url, identifier, jwks, crv=None, token_format="jwe", kind="mbi", ttl_seconds=None, context=None, bind_cert=None
):
    """Encrypts identifier to a key of the curve from jwks (a JwksCache) and searches. When the
    gateway answers ERR_TOKEN_KID_UNKNOWN (the key was rotated out or revoked since the JWKS was
    fetched), the JWKS is fetched again (rate-limited by the cache) and the search made once more
    with another key of the curve. Returns (status, body, kid, retried)."""

    def attempt(exclude=None):
        key = jwks.key(crv, token_format, exclude)
        token = encrypt(identifier, key, token_format, kind, ttl_seconds, bind_cert=bind_cert)
        status, body = search(base_url, token, kind, context=context)
        return status, body, key["kid"]

    status, body, kid = attempt()
    if error_code(body) != "ERR_TOKEN_KID_UNKNOWN":
        return status, body, kid, False
    jwks.refresh()
    status, body, kid = attempt(kid)
    return status, body, kid, True
