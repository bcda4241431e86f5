import type { KeyAlgorithm } from '../jwk.js'

/**
 * The development ring: one P-256 key (every partner JOSE stack, and cloud KMSs, support it), one
 * X25519 key (the short HPKE token, about 91 characters) and one X-Wing key (the hybrid
 * post-quantum HPKE token, about 1,550). Production chooses its curves.
 */
export const DEVELOPMENT_CURVES: readonly KeyAlgorithm[] = ['P-256', 'X25519', 'X-Wing']
