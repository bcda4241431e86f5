import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { encryptMbiHpke } from '@sealed-search/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgreementError, withSharedSecret, type Agreeing } from '../../src/keys/ring/agreement.js'
import { DEVELOPMENT_CURVES, ensureDevelopmentKeys } from '../../src/keys/custody/bootstrap.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { roleAt } from '../../src/keys/stores/key-role.js'
import { readManifest } from '../../src/keys/stores/manifest.js'
import { agreementBattery, agreeOutcome, senderSide } from '../support/agreement-battery.js'
import { tempDir, twoKeyRing } from '../support/keys.js'

describe('the in-process backend', () => {
  let dir: string
  let ring: KeyRing
  beforeAll(async () => ({ dir, ring } = await twoKeyRing()))
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it.each(['P-256', 'X25519'] as const)(
    'computes the sender’s Z for %s and refuses every invalid point',
    async (crv) => {
      const key = ring.keys.find((k) => k.crv === crv)!
      expect(key.store).toBe('in-process')
      await agreementBattery(key, 50)
    },
  )

  it('computes Z on P-256 with the scalar set once: many points, one key, each Z right', async () => {
    const key = ring.keys.find((k) => k.crv === 'P-256')!
    const sides = Array.from({ length: 64 }, () => senderSide(key))
    const results = await Promise.all(sides.map((s) => agreeOutcome(key, s.epk)))
    expect(results).toEqual(sides.map((s) => s.z))
  })
})

describe('withSharedSecret', () => {
  const z = () => new Uint8Array(32).fill(7)

  it('wipes Z after use', async () => {
    const held = z()
    const key: Agreeing = { crv: 'X25519', agree: async () => held }
    const copy = await withSharedSecret(key, new Uint8Array(32), (s) => s.slice())
    expect(copy).toEqual(z())
    expect(held).toEqual(new Uint8Array(32))
  })

  it('wipes Z when its user throws', async () => {
    const held = z()
    const key: Agreeing = { crv: 'P-256', agree: async () => held }
    await expect(
      withSharedSecret(key, new Uint8Array(65), () => {
        throw new Error('KDF failed')
      }),
    ).rejects.toThrow('KDF failed')
    expect(held).toEqual(new Uint8Array(32))
  })

  it('passes a refusal through with its code', async () => {
    const key: Agreeing = {
      crv: 'X25519',
      agree: async () => {
        throw new AgreementError('ERR_AGREEMENT_DEGENERATE')
      },
    }
    await expect(withSharedSecret(key, new Uint8Array(32), (s) => s)).rejects.toMatchObject({
      code: 'ERR_AGREEMENT_DEGENERATE',
    })
  })
})

describe('the development ring', () => {
  let dir: string
  beforeAll(async () => (dir = await tempDir('sealed-dev-keys-')))
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('has a current and a next P-256, X25519 and X-Wing key, made once', async () => {
    const kids = await ensureDevelopmentKeys(dir)
    expect(kids).toHaveLength(6)
    const manifest = await readManifest(dir)
    expect(manifest.keys.map((k) => k.crv)).toEqual([...DEVELOPMENT_CURVES, ...DEVELOPMENT_CURVES])
    expect(manifest.keys.map((k) => k.state)).toEqual(Array(6).fill('active'))
    const now = new Date()
    expect(manifest.keys.map((k) => roleAt(manifest.keys, k, now))).toEqual([
      ...Array(3).fill('current'),
      ...Array(3).fill('next'),
    ])
    expect(await ensureDevelopmentKeys(dir)).toEqual([])
    expect((await readManifest(dir)).keys).toHaveLength(6)
    for (const k of manifest.keys) {
      const jwk = JSON.parse(await readFile(join(dir, k.file), 'utf8'))
      expect(k.crv === 'X-Wing' ? jwk.priv : jwk.d).toBeTypeOf('string')
    }
  })

  it('lets a partner make the short HPKE token out of the box', async () => {
    const ring = await loadKeyRing(dir)
    const x25519 = ring.active().find((k) => k.crv === 'X25519')!
    const token = await encryptMbiHpke('1EG4TE5MK73', x25519.publicJwk)
    expect(token.length).toBeLessThanOrEqual(96)
  })
})
