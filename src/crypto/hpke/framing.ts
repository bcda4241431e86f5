import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { TokenError } from '../errors.js'
import { i2osp } from './suite.js'

/**
 * The HPKE token (docs/TOKENS.md), after base64url decoding, modelled on the RFC 9458 §4.3
 * (Oblivious HTTP) request: header || enc || ct, where
 *   header = version (1) || key_id (2) || kem_id (2) || kdf_id (2) || aead_id (2).
 * Version 2: the key id is the number the gateway assigns and publishes (`hpke_key_id`). Version
 * 1 (a draft that carried the 32-byte thumbprint) was never deployed and is refused.
 */
export const HPKE_TOKEN_VERSION = 0x02
/**
 * Version 3: version 2's layout, sender-bound. The same bytes, and `info` ends with the SHA-256
 * of the partner's mTLS client certificate (src/crypto/binding.ts), so the token opens only over
 * a connection that presents that certificate. Not one byte longer than version 2.
 */
export const HPKE_TOKEN_VERSION_BOUND = 0x03
/** RFC 9458 §3 uses 8 bits; 16 leave room for 65,535 keys over the gateway's life. */
export const KEY_ID_LENGTH = 2
export const HEADER_LENGTH = 1 + KEY_ID_LENGTH + 2 + 2 + 2
/** The key's RFC 7638 SHA-256 thumbprint (its kid), bound through info, never carried. */
export const THUMBPRINT_LENGTH = 32

/** Binds every token to this purpose; a new payload meaning needs a new label. */
export const TOKEN_INFO_LABEL = 'sealed-search mbi v1'

export interface TokenHeader {
  /** Version 3 (sender-bound) instead of 2. */
  bound?: boolean | undefined
  keyId: number
  kemId: number
  kdfId: number
  aeadId: number
}

export function encodeHeader(header: TokenHeader): Uint8Array {
  if (!Number.isInteger(header.keyId) || header.keyId < 0 || header.keyId > 0xffff) {
    throw new RangeError('the HPKE key id must be a 16-bit integer')
  }
  return concatBytes(
    Uint8Array.of(header.bound ? HPKE_TOKEN_VERSION_BOUND : HPKE_TOKEN_VERSION),
    i2osp(header.keyId, KEY_ID_LENGTH),
    i2osp(header.kemId, 2),
    i2osp(header.kdfId, 2),
    i2osp(header.aeadId, 2),
  )
}

/**
 * HPKE `info` (RFC 9180 §5.1): label || 0x00 || header || thumbprint [|| certificate]. The label
 * and 0x00 are as RFC 9458 §4.3 builds its info; the key's full thumbprint ties the token to that
 * one key even though the header names it by a 2-byte number. A version 3 header needs the
 * sender's certificate thumbprint (32 bytes, RFC 8705 §3.1) last; a version 2 header forbids it.
 */
export function tokenInfo(
  header: Uint8Array,
  thumbprint: Uint8Array,
  certThumbprint?: Uint8Array,
): Uint8Array {
  if (header.length !== HEADER_LENGTH) throw new RangeError('not an HPKE token header')
  if (thumbprint.length !== THUMBPRINT_LENGTH) throw new RangeError('thumbprint must be 32 bytes')
  const bound = header[0] === HPKE_TOKEN_VERSION_BOUND
  if (bound !== (certThumbprint !== undefined)) {
    throw new RangeError('a version 3 header, and only that, binds a certificate')
  }
  if (certThumbprint && certThumbprint.length !== THUMBPRINT_LENGTH) {
    throw new RangeError('the certificate thumbprint must be 32 bytes')
  }
  const label = utf8ToBytes(TOKEN_INFO_LABEL)
  return certThumbprint
    ? concatBytes(label, Uint8Array.of(0), header, thumbprint, certThumbprint)
    : concatBytes(label, Uint8Array.of(0), header, thumbprint)
}

export interface FramedToken extends TokenHeader {
  bound: boolean
  /** The 9 header bytes, exactly as received: HPKE info and AAD are built from these. */
  header: Uint8Array
  /** enc || ct, split once the KEM (and so Nenc) is known. */
  body: Uint8Array
}

const u16 = (bytes: Uint8Array, at: number): number => (bytes[at]! << 8) | bytes[at + 1]!

/** Splits the header off; says nothing yet about whether the suite or key is acceptable. */
export function parseFrame(bytes: Uint8Array): FramedToken {
  if (bytes.length < HEADER_LENGTH) throw new TokenError('ERR_TOKEN_MALFORMED')
  const version = bytes[0]
  if (version !== HPKE_TOKEN_VERSION && version !== HPKE_TOKEN_VERSION_BOUND) {
    throw new TokenError('ERR_TOKEN_FORMAT_UNSUPPORTED')
  }
  const header = bytes.subarray(0, HEADER_LENGTH)
  return {
    header,
    bound: version === HPKE_TOKEN_VERSION_BOUND,
    keyId: u16(bytes, 1),
    kemId: u16(bytes, 3),
    kdfId: u16(bytes, 5),
    aeadId: u16(bytes, 7),
    body: bytes.subarray(HEADER_LENGTH),
  }
}
