/**
 * The standing next key of a curve (src/keys/stores/key-role.ts) in the ring core: the current key
 * is the curve's oldest published key, the next key is published and accepted but listed after
 * it; a revocation of the current key leaves the next key published and stages a new one; a
 * rotation retires only the current key. And partners' `chooseKey` picks the current key while
 * both are published, the next key once the current one is revoked.
 */
import { rm } from 'node:fs/promises'
import { chooseKey } from '@sealed-search/client'
import { describe, expect, it } from 'vitest'
import { applyChange, type Change } from '../../src/keys/custody/change.js'
import { nextKeyFindings } from '../../src/keys/custody/next-keys.js'
import { ensureKeyInStore, revokeInStore } from '../../src/keys/custody/custody.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { inPublishingOrder, lacksNextKey, roleAt } from '../../src/keys/stores/key-role.js'
import type { KeyEntry, Ring } from '../../src/keys/stores/key-store.js'
import { stateAt } from '../../src/keys/stores/manifest.js'
import { tempDir } from '../support/keys.js'

const T0 = new Date('2026-06-01T00:00:00Z')
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000)

const entry = (kid: string, hpkeKeyId: number, crv: KeyEntry['crv'], state: KeyEntry['state']) =>
  ({ kid, hpkeKeyId, crv, state, created: T0.toISOString(), notAfter: null }) as KeyEntry

/** P-256: current p1 and next p2; X25519: x1 alone (no next key). */
const ring: Ring = {
  entries: [
    entry('p1', 1, 'P-256', 'active'),
    entry('x1', 2, 'X25519', 'active'),
    entry('p2', 3, 'P-256', 'active'),
  ],
  invalid: [],
}
const byKid = (r: Ring, kid: string) => r.entries.find((e) => e.kid === kid)!

describe('the next key of a curve', () => {
  it('is published after the current key of every curve, and the current key is the oldest', () => {
    // Listed in any order, the JWKS order is the same.
    const shuffled = [ring.entries[2]!, ring.entries[1]!, ring.entries[0]!]
    expect(inPublishingOrder(shuffled, T0).map((e) => e.kid)).toEqual(['p1', 'x1', 'p2'])
    expect(ring.entries.map((e) => roleAt(ring.entries, e, T0))).toEqual([
      'current',
      'current',
      'next',
    ])
    expect(lacksNextKey(ring.entries, 'P-256', T0)).toBe(false)
    expect(lacksNextKey(ring.entries, 'X25519', T0)).toBe(true)
  })

  it('takes over at once when the current key is revoked, and the curve asks for a new next key', () => {
    const done = applyChange(ring, { type: 'revoke', kid: 'p1' }, T0)
    expect(done.wantsNext).toBe('P-256')
    expect(byKid(done.ring, 'p1').state).toBe('revoked')
    expect(inPublishingOrder(done.ring.entries, T0).map((e) => e.kid)).toEqual(['x1', 'p2'])
    expect(roleAt(done.ring.entries, byKid(done.ring, 'p2'), T0)).toBe('current')
    // The ring given is unchanged.
    expect(byKid(ring, 'p1').state).toBe('active')
  })

  it('is replaced when it is itself revoked; a retired or retiring key asks for nothing', () => {
    expect(applyChange(ring, { type: 'revoke', kid: 'p2' }, T0).wantsNext).toBe('P-256')
    const retired: Ring = {
      ...ring,
      entries: [...ring.entries, entry('p0', 9, 'P-256', 'retired')],
    }
    expect(applyChange(retired, { type: 'revoke', kid: 'p0' }, T0).wantsNext).toBeUndefined()
  })

  it("is staged for the publish delay even when its curve's last key was revoked", () => {
    const alone: Ring = { entries: [entry('p1', 1, 'P-256', 'revoked')], invalid: [] }
    const key = { kid: 'p2', crv: 'P-256' } as const
    const staged = applyChange(
      alone,
      { type: 'generate', key, publishDelaySeconds: 15, staged: true },
      T0,
    )
    expect(byKid(staged.ring, 'p2')).toMatchObject({ state: 'pending' })
    // A plain generate into a ring with nothing published is active at once, as before.
    const plain = applyChange(alone, { type: 'generate', key, publishDelaySeconds: 15 }, T0)
    expect(byKid(plain.ring, 'p2').state).toBe('active')
  })

  it('becomes current on rotate: only the current key retires, the new key becomes next', () => {
    const change: Change = {
      type: 'rotate',
      keys: [{ kid: 'p3', crv: 'P-256' }],
      graceSeconds: 60,
      publishDelaySeconds: 15,
    }
    const done = applyChange(ring, change, T0)
    expect(done.retiring[0]!.map((e) => e.kid)).toEqual(['p1'])
    // Until the new key is published, nothing changes for partners.
    expect(inPublishingOrder(done.ring.entries, T0).map((e) => e.kid)).toEqual(['p1', 'x1', 'p2'])
    const after = later(15)
    expect(inPublishingOrder(done.ring.entries, after).map((e) => e.kid)).toEqual([
      'x1',
      'p2',
      'p3',
    ])
    expect(stateAt(byKid(done.ring, 'p1'), after)).toBe('retiring')
    expect(roleAt(done.ring.entries, byKid(done.ring, 'p2'), after)).toBe('current')
    expect(roleAt(done.ring.entries, byKid(done.ring, 'p3'), after)).toBe('next')
  })

  it('is reported by doctor: ok with a next key, a warning without one', () => {
    const findings = nextKeyFindings(ring.entries, T0)
    expect(findings).toEqual([
      { level: 'ok', message: 'P-256: current key p1, next key p2' },
      expect.objectContaining({ level: 'warning' }),
    ])
    expect(findings[1]!.message).toMatch(/^X25519: .*generate --curve X25519$/)
  })
})

describe("partners' chooseKey on the gateway's JWKS", () => {
  it('picks the current key while both are published, the next key once the current is revoked', async () => {
    const dir = await tempDir('sealed-next-key-')
    try {
      const [p256, x25519, , p256Next] = await ensureKeyInStore(dirKeyStore(dir))
      const before = (await loadKeyRing(dir)).publishedJwks()
      expect(chooseKey(before, 'P-256').kid).toBe(p256!.kid)
      expect(chooseKey(before).kid).toBe(p256!.kid)
      expect(chooseKey(before, undefined, { format: 'hpke' }).kid).toBe(x25519!.kid)
      const revoked = await revokeInStore(dirKeyStore(dir), p256!.kid, new Date(), {
        publishDelaySeconds: 15,
      })
      const after = (await loadKeyRing(dir)).publishedJwks()
      expect(chooseKey(after, 'P-256').kid).toBe(p256Next!.kid)
      // The new next key is accepted already, published after the delay.
      const ring = await loadKeyRing(dir)
      expect(ring.get(revoked.next!.kid)?.state).toBe('pending')
      expect(after.keys.map((k) => k.kid)).not.toContain(revoked.next!.kid)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
