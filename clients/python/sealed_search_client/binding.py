"""Sender-bound tokens (docs/TOKENS.md, "Version 3"): a token bound to the partner's mTLS client
certificate opens only over a connection that presents that certificate, so a URL copied out of
a log is useless to anyone else. The binding is RFC 8705 §3.1's x5t#S256: SHA-256 of the DER."""
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes


def certificate_thumbprint(certificate):
    """SHA-256 (32 bytes) of a client certificate's DER, from its PEM text or DER bytes.
    Anything that is not one X.509 certificate is a ValueError."""
    data = certificate.encode("ascii") if isinstance(certificate, str) else bytes(certificate)
    try:
        if data.lstrip().startswith(b"-----BEGIN CERTIFICATE-----"):
            cert = x509.load_pem_x509_certificate(data)
        else:
            cert = x509.load_der_x509_certificate(data)
    except ValueError:
        raise ValueError("the client certificate is not a PEM or DER X.509 certificate") from None
    return cert.fingerprint(hashes.SHA256())


def read_certificate(path):
    """The bytes of a certificate file (PEM or DER), for encrypt(..., bind_cert=...)."""
    with open(path, "rb") as f:
        return f.read()


def tls_context(cert_file=None, key_file=None, ca_file=None):
    """An SSLContext for the gateway: its certificate checked against ca_file (else the system's
    roots), and the partner's client certificate and key presented for mTLS when given."""
    context = ssl.create_default_context(cafile=ca_file)
    if cert_file is not None:
        context.load_cert_chain(cert_file, key_file)
    return context
