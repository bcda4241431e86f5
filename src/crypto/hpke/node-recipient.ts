import { createPublicKey, diffieHellman, type KeyObject } from 'node:crypto'
import type { DhRecipient } from './dhkem.js'
import { HpkeError } from './errors.js'
import { KEM_P256_HKDF_SHA256, KEM_X25519_HKDF_SHA256, type KemId } from './suite.js'

/**
 * The gateway's side of DHKEM on node:crypto (OpenSSL): DH(skR, pkE) with the ring's private
 * KeyObject, which is never exported. Node-only: the client and browsers use the noble groups
 * (x25519.ts, p256.ts); the key schedule is shared code, run on the gateway with the node:crypto
 * HKDF and AES-GCM of node-primitives.ts.
 * Accepts and refuses exactly what the noble path does (test/hpke-node.test.ts checks both).
 */

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0
  for (const b of bytes) acc |= b
  return acc === 0
}

/**
 * DeserializePublicKey(enc) as a KeyObject. A JWK is both the fastest import node offers (an
 * SPKI goes through OpenSSL's decoder framework, several times slower) and the one where node
 * checks a P-256 point itself: on the curve, coordinates below p.
 */
function importEnc(kemId: KemId, enc: Uint8Array): KeyObject {
  let jwk: { kty: string; crv: string; x: string; y?: string }
  if (kemId === KEM_X25519_HKDF_SHA256) {
    // RFC 9180 §7.1.1: any 32 bytes are an X25519 public key; bad points are caught by DH.
    if (enc.length !== 32) throw new HpkeError('ERR_HPKE_DESERIALIZE')
    jwk = { kty: 'OKP', crv: 'X25519', x: b64(enc) }
  } else {
    // RFC 9180 §7.1.1: uncompressed SEC1 only (a JWK would also take the 0x06/0x07 hybrid forms).
    if (enc.length !== 65 || enc[0] !== 0x04) throw new HpkeError('ERR_HPKE_DESERIALIZE')
    jwk = { kty: 'EC', crv: 'P-256', x: b64(enc.subarray(1, 33)), y: b64(enc.subarray(33)) }
  }
  try {
    return createPublicKey({ key: jwk, format: 'jwk' })
  } catch (cause) {
    throw new HpkeError('ERR_HPKE_DESERIALIZE', { cause })
  }
}

/** Whether a private KeyObject is on the group of `kemId`. */
function fitsKem(kemId: KemId, privateKey: KeyObject): boolean {
  if (privateKey.type !== 'private') return false
  if (kemId === KEM_X25519_HKDF_SHA256) return privateKey.asymmetricKeyType === 'x25519'
  return (
    kemId === KEM_P256_HKDF_SHA256 &&
    privateKey.asymmetricKeyType === 'ec' &&
    privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1'
  )
}

/**
 * A DHKEM recipient whose private key is a node:crypto KeyObject. `publicKey` is
 * SerializePublicKey(pkR) (from the published JWK), for the KEM context.
 */
export function nodeRecipient(
  kemId: KemId,
  privateKey: KeyObject,
  publicKey: Uint8Array,
): DhRecipient {
  // A programmer's error (the ring pairs keys and KEMs), not a property of the token.
  if (!fitsKem(kemId, privateKey)) throw new TypeError('the private key does not fit the KEM')
  return {
    kemId,
    publicKey,
    dh(enc) {
      const pkE = importEnc(kemId, enc)
      let shared: Buffer
      try {
        // P-256: the x-coordinate of the shared point (RFC 9180 §7.1.1, Ndh = 32). X25519:
        // OpenSSL refuses the all-zero output of a small-order point.
        shared = diffieHellman({ privateKey, publicKey: pkE })
      } catch (cause) {
        throw new HpkeError('ERR_HPKE_VALIDATION', { cause })
      }
      // RFC 9180 §7.1.4: the all-zero X25519 shared secret MUST be rejected (checked here as
      // well, so the rule does not depend on the OpenSSL build).
      if (kemId === KEM_X25519_HKDF_SHA256 && isAllZero(shared)) {
        throw new HpkeError('ERR_HPKE_VALIDATION')
      }
      const out = new Uint8Array(shared)
      shared.fill(0)
      return out
    },
  }
}
