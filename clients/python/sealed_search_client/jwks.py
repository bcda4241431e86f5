"""The gateway's public keys: load a JWKS (a file or its URL) and choose the key to encrypt to."""
import json
import threading
import time
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


class JwksCache:
    """One gateway's JWKS, fetched when first needed and again only when asked: after the
    gateway answers ERR_TOKEN_KID_UNKNOWN (refresh), or when it has no key of the wanted curve
    (key). Forced fetches are rate-limited: at most one per min_refresh_seconds (default 10),
    however many searches fail at once; within the interval the last fetch's JWKS is used.
    initial: a JWKS already held (e.g. the operator's jwks.json); clock: seconds, monotonic."""

    def __init__(self, url, min_refresh_seconds=10, initial=None, context=None, timeout=10, clock=time.monotonic):
        self.url = url
        self.min_refresh_seconds = min_refresh_seconds
        self.fetches = 0
        self._jwks = initial
        self._fetched_at = None
        self._context = context
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()

    def _fetch(self):
        self._jwks = load_jwks(self.url, self._timeout, self._context)
        self._fetched_at = self._clock()
        self.fetches += 1
        return self._jwks

    def get(self):
        """The JWKS held, fetched first if there is none."""
        with self._lock:
            return self._jwks if self._jwks is not None else self._fetch()

    def refresh(self):
        """Fetches again, unless the last fetch is less than min_refresh_seconds old."""
        with self._lock:
            recent = self._fetched_at is not None and self._clock() - self._fetched_at < self.min_refresh_seconds
            return self._jwks if recent else self._fetch()

    def key(self, crv=None, token_format="jwe", exclude=None):
        """A key of the curve other than the kid exclude; when the JWKS held has none, it is
        fetched again (rate-limited) and asked once more, then LookupError."""
        try:
            return choose_key(_without(self.get(), exclude), crv, token_format)
        except LookupError:
            return choose_key(_without(self.refresh(), exclude), crv, token_format)


def _without(jwks, kid):
    return {"keys": [k for k in jwks["keys"] if kid is None or k.get("kid") != kid]}
