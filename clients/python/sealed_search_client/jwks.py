"""The gateway's public keys: load a JWKS (a file or its URL) and choose the key to encrypt to."""
import json
import urllib.request

CURVES = ("P-256", "X25519")


def parse_jwks(text):
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError('not a JWKS: expected {"keys": [...]}')
    return data


def load_jwks(source, timeout=10, context=None):
    """The JWKS from a file, or from its URL (/.well-known/jwks.json) when source is http(s);
    context is an SSLContext (binding.tls_context) for a gateway that wants mTLS."""
    if source.startswith(("https://", "http://")):
        request = urllib.request.Request(source, headers={"Accept": "application/jwk-set+json"})
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return parse_jwks(response.read().decode("utf-8"))
    with open(source, encoding="utf-8") as f:
        return parse_jwks(f.read())


def _has_hpke_key_id(key):
    key_id = key.get("hpke_key_id")
    return isinstance(key_id, int) and not isinstance(key_id, bool) and 1 <= key_id <= 0xFFFF


def choose_key(jwks, crv=None, token_format="jwe", kid=None):
    """The key to encrypt to: the one named by kid, else the first of the curve (or the first
    usable one). For the hpke format only keys that publish an hpke_key_id."""
    usable = [
        k
        for k in jwks["keys"]
        if k.get("kid")
        and k.get("crv") in CURVES
        and k.get("use", "enc") == "enc"
        and (token_format != "hpke" or _has_hpke_key_id(k))
    ]
    if kid is not None:
        usable = [k for k in usable if k["kid"] == kid]
    if crv is not None:
        usable = [k for k in usable if k["crv"] == crv]
    if not usable:
        curve = f"{crv} " if crv else ""
        raise LookupError(f"the JWKS has no usable {curve}key for {token_format}")
    return usable[0]
