import { TokenError } from './errors.js'

const BASE64URL = /^[A-Za-z0-9_-]*$/

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * The bits of the last character that carry no data, by the text's length mod 4 (RFC 4648 §3.5):
 * 2 characters hold one byte (4 spare bits), 3 hold two (2 spare bits), 4 hold three (none).
 */
const SPARE_BITS = [0, 0, 0b1111, 0b11]

/** Strict base64url (RFC 4648 §5, no padding): any other character or a dangling bit fails. */
export function decodeBase64url(text: string): Uint8Array {
  // A length of 1 mod 4 cannot come from any byte string.
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new TokenError('ERR_TOKEN_MALFORMED')
  // Reject non-canonical encodings (unused trailing bits set), so one token has one spelling:
  // the last character's spare bits must be zero (the same test as re-encoding and comparing).
  const spare = SPARE_BITS[text.length % 4]!
  if (spare !== 0 && (ALPHABET.indexOf(text[text.length - 1]!) & spare) !== 0) {
    throw new TokenError('ERR_TOKEN_MALFORMED')
  }
  const bytes = Buffer.from(text, 'base64url')
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
