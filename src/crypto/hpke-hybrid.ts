import type { HybridKeyResolver, KeyResolver } from '../keys/ring/keyring.js'
import { isKeyUnavailable } from '../keys/ring/agreement.js'
import { isAccepted } from '../keys/stores/manifest.js'
import { decodeBase64url } from './base64url.js'
import { TokenError } from './errors.js'
import { THUMBPRINT_LENGTH, tokenInfo, type FramedToken } from './hpke/framing.js'
import { NODE_XWING_PRIMITIVES } from './hpke/node-primitives.js'
import { setupBaseRFromSecret, xwingSuite, type XWingSuite } from './hpke/setup.js'

/**
 * Longest hybrid (X-Wing) HPKE token accepted, checked before decoding: 1,296 bytes, the 1,120
 * bytes of X-Wing's enc plus the room a P-256 token has for its ciphertext (a bare MBI gives a
 * 1,542-character token, the claims object about 1,600).
 */
export const MAX_HYBRID_TOKEN_LENGTH = 1728

function allowedSuite(kdfId: number, aeadId: number): XWingSuite {
  try {
    return xwingSuite(kdfId, aeadId, NODE_XWING_PRIMITIVES)
  } catch (cause) {
    throw new TokenError('ERR_TOKEN_SUITE_UNSUPPORTED', { cause })
  }
}

/**
 * Opens an HPKE token of KEM X-Wing (0x647a) with the hybrid key its key id names: the same
 * framing, info and checks as the DHKEM tokens (hpke-token.ts), with X-Wing's Decap inside
 * src/keys/ (`HybridRingKey.decapsulate`). After the key is used, every failure is the one
 * uniform ERR_TOKEN_DECRYPTION_FAILED (RFC 9180 §5.2 OpenError).
 */
export async function openHybridFrame(
  frame: FramedToken,
  resolve: KeyResolver,
  resolveHybrid: HybridKeyResolver | undefined,
  now: Date,
  certThumbprint: Uint8Array | undefined,
): Promise<{ plaintext: Uint8Array; kid: string }> {
  const suite = allowedSuite(frame.kdfId, frame.aeadId)
  const key = resolveHybrid?.(frame.keyId)
  if (!key) {
    // A classic key under this id: the token's KEM does not fit it.
    if (resolve({ hpkeKeyId: frame.keyId })) throw new TokenError('ERR_TOKEN_KEM_MISMATCH')
    throw new TokenError('ERR_TOKEN_KID_UNKNOWN')
  }
  if (!isAccepted(key, now)) throw new TokenError('ERR_TOKEN_KEY_NOT_ACCEPTED')
  const { nEnc } = suite.kem
  if (frame.body.length <= nEnc + suite.aead.nT) throw new TokenError('ERR_TOKEN_MALFORMED')
  const enc = frame.body.subarray(0, nEnc)
  const ciphertext = frame.body.subarray(nEnc)
  try {
    const thumbprint = new Uint8Array(decodeBase64url(key.kid))
    if (thumbprint.length !== THUMBPRINT_LENGTH) throw new Error('kid is not a thumbprint')
    const info = tokenInfo(frame.header, thumbprint, certThumbprint)
    const sharedSecret = await key.decapsulate(enc)
    const plaintext = await setupBaseRFromSecret(suite, sharedSecret, info).open(
      frame.header,
      ciphertext,
    )
    return { plaintext, kid: key.kid }
  } catch (cause) {
    // A key that cannot compute (destroyed as it left the ring) is the gateway's failure (503).
    if (isKeyUnavailable(cause)) throw cause
    throw new TokenError('ERR_TOKEN_DECRYPTION_FAILED', { cause, senderBound: frame.bound })
  }
}
