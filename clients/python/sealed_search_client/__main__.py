"""Command line: encrypt an identifier read from standard input, or encrypt and search.

    python3 -m sealed_search_client encrypt --jwks FILE|URL [options] < identifier.txt
    python3 -m sealed_search_client search GATEWAY_URL [options] < identifier.txt

With mTLS: --cert and --key present the partner's client certificate, --cacert names the CA of
the gateway's certificate, --bind-cert binds the token to a client certificate (usually the
file given to --cert).

The identifier is read from standard input, never from the command line, where other local
users could see it. encrypt prints the token; search prints Patient/<id> for each match, or the
OperationOutcome's error code on standard error with exit status 1. Usage errors exit 2.
"""
import argparse
import sys

from . import FORMATS, choose_key, encrypt, error_code, load_jwks, read_certificate, search, tls_context
from .jwe import ALGS, ENCS
from .jwks import CURVES


def _parser():
    parser = argparse.ArgumentParser(
        prog="python3 -m sealed_search_client",
        description="Encrypt an MBI (or HICN) to a sealed-search gateway key; search with it.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    enc_cmd = commands.add_parser("encrypt", help="print a token for the identifier on stdin")
    enc_cmd.add_argument("--jwks", required=True, help="the gateway's JWKS: a file or its URL")
    search_cmd = commands.add_parser("search", help="encrypt, search, print Patient/<id> lines")
    search_cmd.add_argument("gateway", help="the gateway's base URL, e.g. https://gateway.example")
    for command in (enc_cmd, search_cmd):
        command.add_argument("--format", choices=FORMATS, default="jwe", help="default: jwe")
        command.add_argument("--crv", choices=CURVES, help="encrypt to this curve's key")
        command.add_argument("--kid", help="encrypt to this key, as --kid=KID (a kid may begin with -)")
        command.add_argument("--alg", choices=ALGS, help="jwe only; default ECDH-ES")
        command.add_argument("--enc", choices=ENCS, help="jwe only; default A256GCM")
        command.add_argument("--ttl", type=int, help="send iat and exp claims, expiring after TTL seconds")
        command.add_argument("--hicn", action="store_true", help="the identifier is a HICN")
        command.add_argument("--bind-cert", metavar="FILE", help="bind the token to this client certificate (PEM or DER)")
        command.add_argument("--cert", metavar="FILE", help="mTLS: the client certificate to present (PEM)")
        command.add_argument("--key", metavar="FILE", help="mTLS: its private key (PEM); default: in --cert")
        command.add_argument("--cacert", metavar="FILE", help="the CA of the gateway's certificate (PEM)")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.format == "hpke" and (args.alg or args.enc):
        parser.error("--alg and --enc apply to --format jwe only")
    if args.key and not args.cert:
        parser.error("--key needs --cert")
    kind = "hicn" if args.hicn else "mbi"
    # Drop the line end that `echo` adds; the gateway does not trim.
    identifier = sys.stdin.read().rstrip("\r\n")
    jwks_source = args.jwks if args.command == "encrypt" else args.gateway.rstrip("/") + "/.well-known/jwks.json"

    try:
        context = tls_context(args.cert, args.key, args.cacert)
        bind_cert = read_certificate(args.bind_cert) if args.bind_cert else None

        def make_token():
            key = choose_key(load_jwks(jwks_source, context=context), args.crv, args.format, args.kid)
            return encrypt(identifier, key, args.format, kind, args.ttl, args.alg, args.enc, bind_cert)

        token = make_token()
        if args.command == "encrypt":
            print(token)
            return 0
        status, body = search(args.gateway, token, kind, context=context)
        if error_code(body) == "ERR_TOKEN_KID_UNKNOWN":
            # The key was rotated out: fetch the JWKS again and encrypt again, once.
            status, body = search(args.gateway, make_token(), kind, context=context)
    except (ValueError, LookupError, OSError) as error:
        print(f"sealed_search_client: {error}", file=sys.stderr)
        return 1
    if body.get("resourceType") != "Bundle":
        print(error_code(body) or f"HTTP {status}: not a FHIR Bundle", file=sys.stderr)
        return 1
    for entry in body.get("entry", []):
        print(f"Patient/{entry['resource']['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
