import type { Curve } from '../jwk.js'

/**
 * The development ring: one P-256 key (every partner JOSE stack, and cloud KMSs, support it) and
 * one X25519 key (the short HPKE token, about 91 characters). Production chooses its curves.
 */
export const DEVELOPMENT_CURVES: readonly Curve[] = ['P-256', 'X25519']
