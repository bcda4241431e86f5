import type { GatewayJwk } from './jwe.js'

export interface Jwks {
  keys: GatewayJwk[]
}

const SUPPORTED = new Set(['P-256', 'X25519'])

/** A gateway key can carry HPKE tokens when it has an `hpke_key_id` (docs/TOKENS.md). */
const hasHpkeKeyId = (k: GatewayJwk): boolean =>
  Number.isInteger(k.hpke_key_id) && k.hpke_key_id! >= 1 && k.hpke_key_id! <= 0xffff

/** An X-Wing key in the AKP form, with its HPKE key id (docs/TOKENS.md). */
const isXWing = (k: GatewayJwk): boolean =>
  k.kty === 'AKP' && k.alg === 'X-Wing' && !!k.kid && typeof k.pub === 'string' && hasHpkeKeyId(k)

/**
 * Picks the key to encrypt to: the first key of the wanted curve, else the first supported one.
 * With `format: 'hpke'`, only keys that publish an `hpke_key_id`, the shortest token first:
 * X25519, then P-256, then X-Wing. With `pq: true` (or `crv: 'X-Wing'`), the hybrid post-quantum
 * X-Wing key, for HPKE tokens only.
 */
export function chooseKey(
  jwks: Jwks,
  crv?: 'P-256' | 'X25519' | 'X-Wing',
  options: { format?: 'jwe' | 'hpke'; pq?: boolean } = {},
): GatewayJwk {
  if (options.pq === true || crv === 'X-Wing') {
    if (options.format === 'jwe') throw new Error('an X-Wing key takes HPKE tokens only')
    if (crv !== undefined && crv !== 'X-Wing') throw new Error('pq asks for the X-Wing key')
    const key = jwks.keys.find((k) => isXWing(k) && (k.use === undefined || k.use === 'enc'))
    if (!key) throw new Error('the JWKS has no X-Wing (post-quantum) encryption key')
    return key
  }
  const usable = jwks.keys.filter(
    (k) =>
      k.kid &&
      k.crv &&
      SUPPORTED.has(k.crv) &&
      (k.use === undefined || k.use === 'enc') &&
      (options.format !== 'hpke' || hasHpkeKeyId(k)),
  )
  const shortest =
    options.format === 'hpke'
      ? (usable.find((k) => k.crv === 'X25519') ??
        usable[0] ??
        jwks.keys.find((k) => isXWing(k) && (k.use === undefined || k.use === 'enc')))
      : usable[0]
  const key = crv ? usable.find((k) => k.crv === crv) : shortest
  if (!key)
    throw new Error(crv ? `the JWKS has no ${crv} encryption key` : 'the JWKS has no usable key')
  return key
}

export function parseJwks(text: string): Jwks {
  const data = JSON.parse(text) as unknown
  if (typeof data !== 'object' || data === null || !Array.isArray((data as Jwks).keys)) {
    throw new Error('not a JWKS: expected {"keys": [...]}')
  }
  return data as Jwks
}

/** Fetches a gateway's JWKS (works wherever `fetch` does). */
export async function fetchJwks(url: string, init?: RequestInit): Promise<Jwks> {
  const res = await fetch(url, init)
  if (!res.ok) throw new Error(`JWKS request failed with HTTP ${res.status}`)
  return parseJwks(await res.text())
}
