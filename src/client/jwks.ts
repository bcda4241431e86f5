import type { GatewayJwk } from './jwe.js'

export interface Jwks {
  keys: GatewayJwk[]
}

const SUPPORTED = new Set(['P-256', 'X25519'])

/** Picks the key to encrypt to: the first key of the wanted curve, else the first supported one. */
export function chooseKey(jwks: Jwks, crv?: 'P-256' | 'X25519'): GatewayJwk {
  const usable = jwks.keys.filter(
    (k) => k.kid && k.crv && SUPPORTED.has(k.crv) && (k.use === undefined || k.use === 'enc'),
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
