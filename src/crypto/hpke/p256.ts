import { p256 } from '@noble/curves/nist.js'
import { dhkem, type DhGroup } from './dhkem.js'
import { HpkeError } from './errors.js'
import { KEM_P256_HKDF_SHA256 } from './suite.js'

/** P-256 as the DH group of DHKEM(P-256, HKDF-SHA256), kem_id 0x0010. */
export const P256_GROUP: DhGroup = {
  kemId: KEM_P256_HKDF_SHA256,
  nSecret: 32,
  nEnc: 65,
  nPk: 65,
  nSk: 32,
  randomSecretKey: () => p256.utils.randomSecretKey(),
  publicKey: (secretKey) => p256.getPublicKey(secretKey, false),
  /**
   * RFC 9180 §7.1.1: the uncompressed SEC1 encoding (0x04 || x || y) and nothing else;
   * §7.1.4: the point must be on the curve and not the identity (SEC1 §3.2.2 partial check,
   * which is enough for a prime-order curve).
   */
  checkPublicKey(publicKey) {
    if (publicKey.length !== 65 || publicKey[0] !== 0x04)
      throw new HpkeError('ERR_HPKE_DESERIALIZE')
    try {
      const point = p256.Point.fromBytes(publicKey)
      point.assertValidity()
      if (point.is0()) throw new Error('point at infinity')
    } catch (cause) {
      throw new HpkeError('ERR_HPKE_DESERIALIZE', { cause })
    }
  },
  dh(secretKey, publicKey) {
    if (secretKey.length !== 32) throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
    let shared: Uint8Array
    try {
      shared = p256.getSharedSecret(secretKey, publicKey, false)
    } catch (cause) {
      throw new HpkeError('ERR_HPKE_VALIDATION', { cause })
    }
    // RFC 9180 §7.1.1: DH output is the x-coordinate of the shared point (Ndh = 32).
    const x = shared.slice(1, 33)
    shared.fill(0)
    return x
  },
}

export const DHKEM_P256 = dhkem(P256_GROUP)
