import type { KeyAgreement } from '../ring/agreement.js'
import type { Curve } from '../jwk.js'
import type { Pkcs11Token } from './token.js'

/**
 * The PKCS#11 backend: the private key never leaves the token, which computes Z with
 * CKM_ECDH1_DERIVE. The point is validated by agreeWith before the token sees it
 * (`checksPoints: false`), so that every refusal of a bad point is the same as in process, and
 * every failure the token reports is the token's (ERR_KEY_UNAVAILABLE, a 503).
 */
export function pkcs11Agreement(token: Pkcs11Token, kid: string, crv: Curve): KeyAgreement {
  return {
    store: 'pkcs11',
    crv,
    checksPoints: false,
    derive: (point) => token.derive(kid, point),
    available: () => token.canDerive(kid, crv),
  }
}
