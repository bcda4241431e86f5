"""The identifier formats the gateway accepts, checked before anything is encrypted.

MBI (CMS, "Understanding the MBI"): 11 characters; positions 1, 4, 7, 10, 11 numeric (1 is 1-9);
2, 5, 8, 9 alphabetic; 3 and 6 alphanumeric; never S, L, O, I, B or Z, except S in position 2,
which marks synthetic test data. The dashed print form and lower case are normalised.
HICN: 9 digits, then a 1-2 character beneficiary identification code starting with a letter.
"""
import json
import re
import time

_ALPHA = "[AC-HJKMNP-RT-Y]"
_ALNUM = "[0-9AC-HJKMNP-RT-Y]"
_MBI = re.compile(
    f"[1-9](?:{_ALPHA}|S){_ALNUM}[0-9]{_ALPHA}{_ALNUM}[0-9]{_ALPHA}{_ALPHA}[0-9][0-9]"
)
_HICN = re.compile("[0-9]{9}[A-Z][0-9A-Z]?")

KINDS = ("mbi", "hicn")


def normalize_mbi(value):
    """The canonical 11-character MBI, or None when the input is not a well-formed MBI."""
    if len(value) == 13:
        if value[4] != "-" or value[8] != "-":
            return None
        value = value[:4] + value[5:8] + value[9:]
    upper = value.upper()
    return upper if len(value) == 11 and _MBI.fullmatch(upper) else None


def normalize_hicn(value):
    """The canonical (upper-case) HICN, or None when the input is not a HICN."""
    upper = value.upper()
    return upper if len(value) in (10, 11) and _HICN.fullmatch(upper) else None


def identifier_payload(identifier, kind="mbi", ttl_seconds=None, now=None):
    """The token's plaintext (docs/TOKENS.md), as bytes: the canonical identifier, or
    {"mbi"|"hicn", "iat", "exp"} when ttl_seconds is given. The error never holds the identifier.
    """
    if kind not in KINDS:
        raise ValueError("kind must be mbi or hicn")
    canonical = (normalize_mbi if kind == "mbi" else normalize_hicn)(identifier)
    if canonical is None:
        raise ValueError(f"not a well-formed {kind.upper()}")
    if ttl_seconds is None:
        return canonical.encode("ascii")
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be a positive whole number")
    iat = int(time.time() if now is None else now)
    claims = {kind: canonical, "iat": iat, "exp": iat + ttl_seconds}
    return json.dumps(claims, separators=(",", ":")).encode("ascii")
