import { concatBytes } from '@noble/hashes/utils.js'
import type { HybridKeyResolver, KeyResolver } from '../keys/ring/keyring.js'
import type { RingKey } from '../keys/ring/ring-key.js'
import { isKeyUnavailable } from '../keys/ring/agreement.js'
import { isAccepted } from '../keys/stores/manifest.js'
import { decodeBase64url } from './base64url.js'
import { senderThumbprint, type Binding, type Sender } from './binding.js'
import { parseIdentifierPayload, type IdentifierClaims, type IdentifierKind } from './claims.js'
import { TokenError } from './errors.js'
import { openHybridFrame, MAX_HYBRID_TOKEN_LENGTH } from './hpke-hybrid.js'
import { parseFrame, THUMBPRINT_LENGTH, tokenInfo, type FramedToken } from './hpke/framing.js'
import { NODE_PRIMITIVES } from './hpke/node-primitives.js'
import { KEM_FOR_CURVE, openWithKey } from './hpke/node-recipient.js'
import { cipherSuite, type CipherSuite } from './hpke/setup.js'
import { KEM_XWING } from './hpke/suite.js'

export type OpenedHpke<K extends IdentifierKind = 'mbi'> = IdentifierClaims<K> & {
  format: 'hpke'
  kid: string
  kemId: number
  kdfId: number
  aeadId: number
  /** Version 3 tokens are bound to the connection's client certificate (docs/TOKENS.md). */
  binding: Binding
}

/**
 * Longest HPKE token accepted, checked before decoding: 240 bytes, room for a P-256 token whose
 * claims object is over twice the size `{"mbi","iat","exp"}` needs (that token is 194 characters).
 */
export const MAX_HPKE_TOKEN_LENGTH = 320

/** The allowlist of cipherSuite, computed with node:crypto (HKDF, AES-GCM) on the gateway. */
function allowedSuite(kemId: number, kdfId: number, aeadId: number): CipherSuite {
  try {
    return cipherSuite(kemId, kdfId, aeadId, NODE_PRIMITIVES)
  } catch (cause) {
    throw new TokenError('ERR_TOKEN_SUITE_UNSUPPORTED', { cause })
  }
}

/** Whether the header's kem_id (bytes 3-4, inside the first 12 characters) is X-Wing's. */
function namesXWing(token: string): boolean {
  const head = Buffer.from(token.slice(0, 12), 'base64url')
  return head.length === 9 && ((head[3]! << 8) | head[4]!) === KEM_XWING
}

interface HpkeKeyBytes {
  /** SerializePublicKey(pkR) (RFC 9180 §7.1.1) from the published JWK, for the KEM context. */
  publicKey: Uint8Array
  /** The kid: the key's RFC 7638 SHA-256 thumbprint (checked when the ring is loaded). */
  thumbprint: Uint8Array
}

/** Per-key byte strings, computed once per RingKey (a reload makes new RingKeys). */
const keyBytes = new WeakMap<RingKey, HpkeKeyBytes>()

function bytesOf(key: RingKey): HpkeKeyBytes {
  let found = keyBytes.get(key)
  if (!found) {
    const { x, y } = key.publicJwk
    const publicKey =
      key.crv === 'X25519'
        ? new Uint8Array(decodeBase64url(x))
        : concatBytes(Uint8Array.of(0x04), decodeBase64url(x), decodeBase64url(y ?? ''))
    found = { publicKey, thumbprint: new Uint8Array(decodeBase64url(key.kid)) }
    keyBytes.set(key, found)
  }
  return found
}

/**
 * Decrypts an HPKE token (docs/TOKENS.md) with the ring key its key id names: no trial
 * decryption. Version, suite, key and lengths are checked before the key is used; after that,
 * every failure is the one uniform ERR_TOKEN_DECRYPTION_FAILED (RFC 9180 §5.2 OpenError; the
 * same rule as RFC 7516 §11.5 for the JWE path).
 */
export async function openHpke<K extends IdentifierKind = 'mbi'>(
  token: string,
  resolve: KeyResolver,
  now: Date,
  kind: K = 'mbi' as K,
  sender?: Sender,
  resolveHybrid?: HybridKeyResolver,
): Promise<OpenedHpke<K>> {
  // Caps before decoding: the header's first 12 characters (9 bytes) name the KEM, and every
  // KEM but X-Wing has the tight DHKEM cap.
  const cap = namesXWing(token) ? MAX_HYBRID_TOKEN_LENGTH : MAX_HPKE_TOKEN_LENGTH
  if (token.length > cap) {
    throw new TokenError('ERR_TOKEN_TOO_LONG')
  }
  const frame = parseFrame(decodeBase64url(token))
  // A bound token over a connection without a client certificate (plain HTTP): the same refusal
  // as a JWE's; over another certificate it simply does not open (the thumbprint is in info).
  const certThumbprint = frame.bound ? senderThumbprint(sender) : undefined
  if (frame.kemId === KEM_XWING) {
    const opened = await openHybridFrame(frame, resolve, resolveHybrid, now, certThumbprint)
    return withClaims(parseIdentifierPayload(opened.plaintext, now, kind), opened.kid, frame)
  }
  const suite = allowedSuite(frame.kemId, frame.kdfId, frame.aeadId)

  // The key id is the number the gateway assigned and published: an exact Map lookup.
  const key = resolve({ hpkeKeyId: frame.keyId })
  if (!key && resolveHybrid?.(frame.keyId)) throw new TokenError('ERR_TOKEN_KEM_MISMATCH')
  if (!key) throw new TokenError('ERR_TOKEN_KID_UNKNOWN')
  if (!isAccepted(key, now)) throw new TokenError('ERR_TOKEN_KEY_NOT_ACCEPTED')
  const kemId = KEM_FOR_CURVE[key.crv]
  if (kemId !== frame.kemId) throw new TokenError('ERR_TOKEN_KEM_MISMATCH')

  const { nEnc } = suite.kem.group
  // The ciphertext holds at least the AEAD tag and one byte of plaintext.
  if (frame.body.length <= nEnc + suite.aead.nT) throw new TokenError('ERR_TOKEN_MALFORMED')
  const enc = frame.body.subarray(0, nEnc)
  const ciphertext = frame.body.subarray(nEnc)

  let plaintext: Uint8Array
  try {
    const { publicKey, thumbprint } = bytesOf(key)
    // A kid that is not a 32-byte thumbprint cannot be bound: the same uniform failure.
    if (thumbprint.length !== THUMBPRINT_LENGTH) throw new Error('kid is not a thumbprint')
    // info binds purpose, header, the key's thumbprint and, in version 3, the sender's
    // certificate; the header is also the AAD.
    const info = tokenInfo(frame.header, thumbprint, certThumbprint)
    plaintext = await openWithKey(suite, enc, key, publicKey, info, frame.header, ciphertext)
  } catch (cause) {
    // A key store that cannot compute is the gateway's failure (503), not the token's.
    if (isKeyUnavailable(cause)) throw cause
    throw new TokenError('ERR_TOKEN_DECRYPTION_FAILED', { cause, senderBound: frame.bound })
  }
  return withClaims(parseIdentifierPayload(plaintext, now, kind), key.kid, frame)
}

function withClaims<K extends IdentifierKind>(
  claims: IdentifierClaims<K>,
  kid: string,
  frame: FramedToken,
): OpenedHpke<K> {
  return {
    ...claims,
    format: 'hpke',
    kid,
    kemId: frame.kemId,
    kdfId: frame.kdfId,
    aeadId: frame.aeadId,
    binding: frame.bound ? 'bound' : 'unbound',
  }
}
