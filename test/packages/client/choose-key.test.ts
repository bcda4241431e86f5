import { describe, expect, it } from 'vitest'
import { chooseKey, type Jwks } from '@sealed-search/client'

const P256 = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'p', use: 'enc', hpke_key_id: 1 }
const X25519 = { kty: 'OKP', crv: 'X25519', x: 'x', kid: 'x', use: 'enc', hpke_key_id: 2 }
const XWING = { kty: 'AKP', alg: 'X-Wing', pub: 'pub', kid: 'w', use: 'enc', hpke_key_id: 3 }
const all: Jwks = { keys: [P256, X25519, XWING] }

describe('chooseKey', () => {
  it('takes the first usable key for JWE, and never the X-Wing key', () => {
    expect(chooseKey(all).kid).toBe('p')
    expect(() => chooseKey({ keys: [XWING] })).toThrow(/no usable key/)
  })

  it('takes the shortest token for HPKE: X25519, then P-256, then X-Wing', () => {
    expect(chooseKey(all, undefined, { format: 'hpke' }).kid).toBe('x')
    expect(chooseKey({ keys: [P256, XWING] }, undefined, { format: 'hpke' }).kid).toBe('p')
    expect(chooseKey({ keys: [XWING] }, undefined, { format: 'hpke' }).kid).toBe('w')
  })

  it('takes the X-Wing key with pq: true or crv X-Wing, and refuses it for JWE', () => {
    expect(chooseKey(all, undefined, { format: 'hpke', pq: true }).kid).toBe('w')
    expect(chooseKey(all, 'X-Wing').kid).toBe('w')
    expect(() => chooseKey(all, undefined, { format: 'jwe', pq: true })).toThrow(/HPKE tokens only/)
    expect(() => chooseKey({ keys: [P256] }, undefined, { pq: true })).toThrow(/no X-Wing/)
    expect(() => chooseKey(all, 'P-256', { pq: true })).toThrow(/pq asks for the X-Wing key/)
  })

  it('takes an X-Wing key only with an hpke_key_id', () => {
    const noId = { ...XWING, hpke_key_id: undefined }
    expect(() => chooseKey({ keys: [noId] }, 'X-Wing')).toThrow(/no X-Wing/)
  })
})
