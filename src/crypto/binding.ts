import { timingSafeEqual } from 'node:crypto'
import { decodeBase64url } from './base64url.js'
import { TokenError } from './errors.js'

/**
 * Sender-bound tokens (the idea of RFC 8705 §3 for OAuth): the partner puts the SHA-256
 * thumbprint of its own mTLS client certificate inside the authenticated part of the token, and
 * the gateway opens it only over a connection that presents that certificate. A URL copied from
 * a log is then useless to anyone but the partner who made it.
 */

/** SHA-256 of the certificate's DER (RFC 8705 §3.1 `x5t#S256`). */
export const CERT_THUMBPRINT_LENGTH = 32
/** `x5t#S256` is the thumbprint in base64url without padding: exactly 43 characters. */
export const X5T_S256_CHARS = 43
/** The JWE protected header member that carries the binding. */
export const X5T_S256 = 'x5t#S256'

/** What the connection a token arrived over tells about its sender. */
export interface Sender {
  /** SHA-256 of the DER of the verified mTLS client certificate; absent without one. */
  certThumbprint?: Uint8Array | undefined
  /** The partner's own policy (an allowlist entry marked `=bound`): its tokens must be bound. */
  mustBind?: boolean | undefined
  /** The partner's own policy (an allowlist entry marked `=pq`): its tokens must be hybrid. */
  mustPq?: boolean | undefined
}

export type Binding = 'bound' | 'unbound'

/** The 32 bytes of an `x5t#S256` value; anything but 43 canonical base64url characters fails. */
export function parseX5tS256(value: unknown): Uint8Array {
  if (typeof value !== 'string' || value.length !== X5T_S256_CHARS) {
    throw new TokenError('ERR_TOKEN_MALFORMED')
  }
  return decodeBase64url(value) // canonical only: one certificate, one spelling
}

/**
 * The connection's certificate thumbprint for a bound token, or the one uniform refusal when
 * there is none (plain HTTP, no client certificate). Never says which certificate was expected.
 */
export function senderThumbprint(sender: Sender | undefined): Uint8Array {
  const thumbprint = sender?.certThumbprint
  if (!thumbprint || thumbprint.length !== CERT_THUMBPRINT_LENGTH) {
    throw new TokenError('ERR_TOKEN_SENDER_MISMATCH')
  }
  return thumbprint
}

/** Compares a token's binding with the connection's certificate, in constant time. */
export function checkSender(bound: Uint8Array | undefined, sender: Sender | undefined): Binding {
  if (bound === undefined) return 'unbound'
  const presented = senderThumbprint(sender)
  if (bound.length !== presented.length || !timingSafeEqual(bound, presented)) {
    throw new TokenError('ERR_TOKEN_SENDER_MISMATCH')
  }
  return 'bound'
}

/**
 * The binding policy, after a token has opened: with `requireAll` (TOKEN_REQUIRE_SENDER_BINDING)
 * or for a partner that must bind, an unbound token is refused.
 */
export function enforceBinding(binding: Binding, sender: Sender | undefined, requireAll: boolean) {
  if (binding === 'unbound' && (requireAll || sender?.mustBind)) {
    throw new TokenError('ERR_TOKEN_BINDING_REQUIRED')
  }
}
