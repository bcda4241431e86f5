import { sha256 } from '@noble/hashes/sha2.js'

/** A client certificate, as PEM text or as DER bytes. */
export type ClientCertificate = string | Uint8Array

export interface BindingOptions {
  /**
   * Binds the token to this mTLS client certificate (the one the partner connects with): the
   * gateway then opens it only over a connection that presents it (docs/TOKENS.md).
   */
  bindCertificate?: ClientCertificate | undefined
}

const PEM = /^-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\s*$/

function derOf(certificate: ClientCertificate): Uint8Array {
  if (typeof certificate !== 'string') return certificate
  const m = PEM.exec(certificate.trim() + '\n')
  if (!m) throw new TypeError('the client certificate is not one PEM CERTIFICATE block')
  const binary = atob(m[1]!.replace(/\s+/g, ''))
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0))
}

/**
 * SHA-256 of the certificate's DER: RFC 8705 §3.1's `x5t#S256`, as 32 bytes. A DER certificate
 * begins with a SEQUENCE (0x30); anything else is refused rather than hashed.
 */
export function certificateThumbprint(certificate: ClientCertificate): Uint8Array {
  const der = derOf(certificate)
  if (der.length < 2 || der[0] !== 0x30) throw new TypeError('the client certificate is not DER')
  return sha256(der)
}
