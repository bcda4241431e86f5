import { x25519 } from '@noble/curves/ed25519.js'
import { dhkem, type DhGroup } from './dhkem.js'
import { HpkeError } from './errors.js'
import { KEM_X25519_HKDF_SHA256 } from './suite.js'

/** Constant-time all-zero test: OR every byte, branch once. */
function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0
  for (const b of bytes) acc |= b
  return acc === 0
}

/** X25519 (RFC 7748) as the DH group of DHKEM(X25519, HKDF-SHA256), kem_id 0x0020. */
export const X25519_GROUP: DhGroup = {
  kemId: KEM_X25519_HKDF_SHA256,
  nSecret: 32,
  nEnc: 32,
  nPk: 32,
  nSk: 32,
  randomSecretKey: () => x25519.utils.randomSecretKey(),
  publicKey: (secretKey) => x25519.getPublicKey(secretKey),
  // RFC 9180 §7.1.1: any 32-byte string is a public key; bad points are caught by dh().
  checkPublicKey(publicKey) {
    if (publicKey.length !== 32) throw new HpkeError('ERR_HPKE_DESERIALIZE')
  },
  dh(secretKey, publicKey) {
    if (secretKey.length !== 32 || publicKey.length !== 32) {
      throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
    }
    let shared: Uint8Array
    try {
      shared = x25519.scalarMult(secretKey, publicKey)
    } catch (cause) {
      // noble refuses the all-zero output of a small-order point itself.
      throw new HpkeError('ERR_HPKE_VALIDATION', { cause })
    }
    // RFC 9180 §7.1.4: the all-zero shared secret MUST be rejected (checked here too, not only
    // trusted to the library).
    if (isAllZero(shared)) throw new HpkeError('ERR_HPKE_VALIDATION')
    return shared
  },
}

export const DHKEM_X25519 = dhkem(X25519_GROUP)
