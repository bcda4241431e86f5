import { TokenError } from './errors.js'

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Strict base64url (RFC 4648 §5, no padding): any other character or a dangling bit fails. */
export function decodeBase64url(text: string): Uint8Array {
  // A length of 1 mod 4 cannot come from any byte string.
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new TokenError('ERR_TOKEN_MALFORMED')
  const bytes = Buffer.from(text, 'base64url')
  // Reject non-canonical encodings (unused trailing bits set), so one token has one spelling.
  if (bytes.toString('base64url') !== text) throw new TokenError('ERR_TOKEN_MALFORMED')
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/**
 * Strict UTF-8 that keeps a leading byte order mark (ignoreBOM: the decoder's default would drop
 * it): the bytes are what they are, so a BOM before a header or a payload makes it malformed or
 * invalid, the same on every decrypt path.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch (cause) {
    throw new TokenError('ERR_TOKEN_MALFORMED', { cause })
  }
}
