import type { GatewayJwk } from './jwe.js'

export interface Jwks {
  keys: GatewayJwk[]
}

const SUPPORTED = new Set(['P-256', 'X25519'])

/** A gateway key can carry HPKE tokens when it has an `hpke_key_id` (docs/TOKENS.md). */
const hasHpkeKeyId = (k: GatewayJwk): boolean =>
  Number.isInteger(k.hpke_key_id) && k.hpke_key_id! >= 1 && k.hpke_key_id! <= 0xffff

/**
 * Picks the key to encrypt to: the first key of the wanted curve, else the first supported one.
 * With `format: 'hpke'`, only keys that publish an `hpke_key_id`.
 */
export function chooseKey(
  jwks: Jwks,
  crv?: 'P-256' | 'X25519',
  options: { format?: 'jwe' | 'hpke' } = {},
): GatewayJwk {
  const usable = jwks.keys.filter(
    (k) =>
      k.kid &&
      k.crv &&
      SUPPORTED.has(k.crv) &&
      (k.use === undefined || k.use === 'enc') &&
      (options.format !== 'hpke' || hasHpkeKeyId(k)),
  )
  const key = crv ? usable.find((k) => k.crv === crv) : usable[0]
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
