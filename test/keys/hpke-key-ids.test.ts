/**
 * HPKE key ids (docs/TOKENS.md): the small number the gateway assigns to each key, records in
 * the manifest, publishes in the JWKS as `hpke_key_id` and finds keys by in an HPKE token.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encryptMbiHpke } from '@sealed-search/client'
import { openToken } from '../../src/crypto/token.js'
import { doctor } from '../../src/keys/custody/doctor.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { retire, revoke, rotate } from '../../src/keys/custody/lifecycle.js'
import {
  HPKE_KEY_ID_MAX,
  MANIFEST_FILE,
  nextHpkeKeyId,
  parseManifest,
  readManifest,
} from '../../src/keys/stores/manifest.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { tempDir } from '../support/keys.js'

const MBI = '1S00E00AA00'

const entry = (kid: string, hpkeKeyId?: unknown) => ({
  kid,
  ...(hpkeKeyId === undefined ? {} : { hpkeKeyId }),
  crv: 'P-256',
  state: 'active',
  created: '2026-01-01T00:00:00Z',
  notAfter: null,
  file: `${kid}.private.jwk.json`,
})
const manifestText = (...keys: object[]) => JSON.stringify({ version: 1, keys })

describe('assigning HPKE key ids', () => {
  it('numbers generated keys 1, 2, 3 and records the number in the manifest', async () => {
    const dir = await tempDir()
    const ids = []
    for (const crv of ['P-256', 'X25519', 'P-256'] as const) {
      ids.push((await addGeneratedKey(dir, crv)).hpkeKeyId)
    }
    expect(ids).toEqual([1, 2, 3])
    const raw = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'))
    expect(raw.keys.map((k: { hpkeKeyId: number }) => k.hpkeKeyId)).toEqual([1, 2, 3])
  })

  it('never reuses the id of a retired or revoked key', async () => {
    const dir = await tempDir()
    const a = await addGeneratedKey(dir, 'P-256')
    const b = await addGeneratedKey(dir, 'X25519')
    const { added } = await rotate(dir, 'X25519', 3600)
    expect(added.hpkeKeyId).toBe(3)
    await retire(dir, b.kid)
    await revoke(dir, added.kid)
    const next = await rotate(dir, 'P-256', 3600)
    expect(next.added.hpkeKeyId).toBe(4)
    const ids = (await readManifest(dir)).keys.map((k) => [k.kid, k.hpkeKeyId])
    expect(ids).toEqual([
      [a.kid, 1],
      [b.kid, 2],
      [added.kid, 3],
      [next.added.kid, 4],
    ])
  })

  it('stops at 65535 rather than wrapping around', () => {
    expect(nextHpkeKeyId([{ hpkeKeyId: HPKE_KEY_ID_MAX - 1 }])).toBe(HPKE_KEY_ID_MAX)
    expect(() => nextHpkeKeyId([{ hpkeKeyId: HPKE_KEY_ID_MAX }])).toThrow(
      expect.objectContaining({ code: 'ERR_KEYS_HPKE_KEY_ID_EXHAUSTED' }),
    )
  })
})

describe('HPKE key ids in the manifest', () => {
  it.each([
    ['a duplicate id', manifestText(entry('a', 7), entry('b', 7))],
    ['id 0', manifestText(entry('a', 0))],
    ['an id over 16 bits', manifestText(entry('a', 65536))],
    ['a fractional id', manifestText(entry('a', 1.5))],
    ['a string id', manifestText(entry('a', '1'))],
  ])('refuses a manifest with %s', (_, text) => {
    expect(() => parseManifest(text)).toThrow(
      expect.objectContaining({ code: 'ERR_KEYS_MANIFEST_INVALID' }),
    )
  })

  it('numbers the keys of a manifest written before ids existed, in manifest order', () => {
    const text = manifestText(entry('a'), entry('b', 4), entry('c'))
    expect(parseManifest(text).keys.map((k) => k.hpkeKeyId)).toEqual([5, 4, 6])
    // The same file gives the same numbers to every reader.
    expect(parseManifest(text).keys.map((k) => k.hpkeKeyId)).toEqual([5, 4, 6])
  })

  it('loads an old key directory, publishes the numbers, and records them on the next rotate', async () => {
    const dir = await tempDir()
    const a = await addGeneratedKey(dir, 'P-256')
    const b = await addGeneratedKey(dir, 'X25519')
    // Rewrite the manifest as the previous release wrote it: no hpkeKeyId.
    const raw = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'))
    for (const k of raw.keys) delete k.hpkeKeyId
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(raw))

    const ring = await loadKeyRing(dir)
    expect(ring.jwks().keys.map((k) => [k.kid, k.hpke_key_id])).toEqual([
      [a.kid, 1],
      [b.kid, 2],
    ])
    const findings = await doctor(dir)
    expect(findings).toContainEqual({
      level: 'warning',
      message: expect.stringContaining('2 key(s) without hpkeKeyId'),
    })

    const { added } = await rotate(dir, 'P-256', 3600)
    const written = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'))
    expect(written.keys.map((k: { hpkeKeyId: number }) => k.hpkeKeyId)).toEqual([1, 2, 3])
    expect(added.hpkeKeyId).toBe(3)
    expect((await doctor(dir)).some((f) => f.message.includes('hpkeKeyId'))).toBe(false)
  })
})

describe('HPKE key ids in the ring and the JWKS', () => {
  it('has doctor warn about a jwks.json published without hpke_key_id', async () => {
    const dir = await tempDir()
    await addGeneratedKey(dir, 'X25519')
    const keys = (await loadKeyRing(dir)).jwks().keys
    const stale = keys.map(({ hpke_key_id: _, ...k }) => k)
    await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys: stale }))
    expect((await doctor(dir)).map((f) => f.message)).toContainEqual(
      expect.stringContaining("lacks the keys' hpke_key_id"),
    )
    await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys }))
    expect((await doctor(dir)).filter((f) => f.level !== 'ok')).toEqual([])
  })

  it('publishes hpke_key_id with each key and finds the key by it exactly', async () => {
    const dir = await tempDir()
    const p = await addGeneratedKey(dir, 'P-256')
    const x = await addGeneratedKey(dir, 'X25519')
    const ring = await loadKeyRing(dir)
    const jwks = ring.jwks()
    expect(jwks.keys.map((k) => k.hpke_key_id).sort()).toEqual([1, 2])
    expect(ring.getByHpkeKeyId(p.hpkeKeyId)?.kid).toBe(p.kid)
    expect(ring.getByHpkeKeyId(x.hpkeKeyId)?.kid).toBe(x.kid)
    expect(ring.getByHpkeKeyId(0)).toBeUndefined()
    expect(ring.getByHpkeKeyId(3)).toBeUndefined()
    // The thumbprint (the kid) covers the RFC 7638 required members only: hpke_key_id is not one.
    for (const k of jwks.keys) {
      const token = await encryptMbiHpke(MBI, k)
      expect(await openToken(token, ring, new Date())).toMatchObject({ mbi: MBI, kid: k.kid })
    }
  })

  it('keeps opening a retiring key by its id, and refuses it once retired', async () => {
    const dir = await tempDir()
    await addGeneratedKey(dir, 'X25519')
    const before = await loadKeyRing(dir)
    const token = await encryptMbiHpke(MBI, before.jwks().keys[0]!)
    const now = new Date('2026-06-01T00:00:00Z')
    const { retiring } = await rotate(dir, 'X25519', 3600, {}, now)
    const during = await loadKeyRing(dir)
    expect((await openToken(token, during, now)).kid).toBe(retiring[0]!.kid)
    await retire(dir, retiring[0]!.kid)
    const after = await loadKeyRing(dir)
    await expect(openToken(token, after, now)).rejects.toMatchObject({
      code: 'ERR_TOKEN_KEY_NOT_ACCEPTED',
    })
  })
})
