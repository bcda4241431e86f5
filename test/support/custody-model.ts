/**
 * A model-based check of key custody (fast-check): random sequences of generate, rotate (with and
 * without a curve), retire (with and without a destroy time), revoke, destroy, sweep, on P-256,
 * X25519 and X-Wing keys, the clock passing publishAt, an instance restarted, a
 * tampered entry and a command that dies between storing its key material and writing the ring,
 * run against a real store with two following instances. After every step: the ring loads; kids
 * and HPKE key ids are unique; no instance accepts a key revoked in an authentic ring, nor one it
 * has itself seen revoked (a revocation that only a tampered ring showed binds the instances that
 * saw it); every key an instance publishes is accepted by every instance but one that has seen it
 * revoked; a destroyed key stays destroyed, is held by no instance
 * and its private key can no longer be read; a refused command changed nothing; after a
 * revocation, every curve that had a published key and a next key (key-role.ts) accepted by
 * every instance still has a published key that every instance accepts.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { applyChange, type Change } from '../../src/keys/custody/change.js'
import {
  destroyInStore,
  generateInStore,
  retireInStore,
  revokeInStore,
  rotateKeys,
  sweepStore,
} from '../../src/keys/custody/custody.js'
import { generateStoredKey, type KeyAlgorithm } from '../../src/keys/jwk.js'
import { followKeyStore, type FollowingKeyRing } from '../../src/keys/ring/follow.js'
import { lacksNextKey } from '../../src/keys/stores/key-role.js'
import type { KeyStore, StoredRing } from '../../src/keys/stores/key-store.js'
import { authenticity } from '../../src/keys/stores/ring-guard.js'
import { isAccepted, isPublished, MANIFEST_FILE, stateAt } from '../../src/keys/stores/manifest.js'
import { createLogger } from '../../src/log/logger.js'

export type Step =
  | { op: 'generate'; crv: KeyAlgorithm }
  | { op: 'rotate'; crv: KeyAlgorithm | undefined }
  | { op: 'retire'; pick: number; force: boolean; destroyAfter: number | undefined }
  | { op: 'revoke'; pick: number }
  | { op: 'destroy'; pick: number }
  | { op: 'sweep' }
  | { op: 'publish' }
  | { op: 'restart'; which: number }
  | { op: 'tamper'; pick: number }
  | { op: 'crash'; crv: KeyAlgorithm }

const curve = fc.constantFrom<KeyAlgorithm>('P-256', 'X25519', 'X-Wing')
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('generate' as const), crv: curve }),
  fc.record({ op: fc.constant('rotate' as const), crv: fc.option(curve, { nil: undefined }) }),
  fc.record({
    op: fc.constant('retire' as const),
    pick: fc.nat(20),
    force: fc.boolean(),
    destroyAfter: fc.option(fc.constantFrom(0, 20), { nil: undefined }),
  }),
  fc.record({ op: fc.constant('revoke' as const), pick: fc.nat(20) }),
  fc.record({ op: fc.constant('destroy' as const), pick: fc.nat(20) }),
  fc.record({ op: fc.constant('sweep' as const) }),
  fc.record({ op: fc.constant('publish' as const) }),
  fc.record({ op: fc.constant('restart' as const), which: fc.nat(1) }),
  fc.record({ op: fc.constant('tamper' as const), pick: fc.nat(20) }),
  fc.record({ op: fc.constant('crash' as const), crv: curve }),
)

/** A store under test: made fresh per sequence, with a way to tamper with one stored entry. */
export interface ModelStore {
  store: KeyStore
  /** Changes a stored entry behind the commands' back (kid `kid`): returns false if it cannot. */
  tamper(kid: string): Promise<boolean>
  close(): Promise<void>
  /** The passphrase the store's ring is authenticated under, if any. */
  passphrase?: string
}

export interface ModelCounts {
  sequences: number
  steps: number
  /** Revocations after which a curve with a next key was checked to still publish a key. */
  revocationsWithNext?: number
}

const logger = createLogger('silent')

/**
 * A key directory of keys in clear has no MAC (whoever can write it can read its keys): its
 * tamper is a bad tool breaking an entry (a time that does not parse), which the ring leaves out.
 */
export async function tamperManifest(dir: string, kid: string): Promise<boolean> {
  const path = join(dir, MANIFEST_FILE)
  const manifest = JSON.parse(await readFile(path, 'utf8'))
  const entry = manifest.keys.find((k: { kid: string }) => k.kid === kid)
  if (!entry) return false
  entry.created = 'not a time'
  await writeFile(path, JSON.stringify(manifest))
  return true
}

/** Whether an instance publishes a key of `crv` at `now` (ECDH keys, or hybrid X-Wing keys). */
function publishedOf(instance: FollowingKeyRing, crv: KeyAlgorithm, now: Date) {
  const ring = instance.current()
  return crv === 'X-Wing'
    ? ring.hybridKeys.filter((k) => isPublished(k, now))
    : ring.active(now).filter((k) => k.crv === crv)
}

/**
 * The curves a revocation must leave with a published key: each has one published and a next
 * key (key-role.ts), its standing keys held and accepted by every instance, in a ring that needs
 * no authentication or is authentic.
 */
async function curvesWithNext(
  ring: StoredRing,
  instances: readonly FollowingKeyRing[],
  passphrase: string | undefined,
  now: Date,
): Promise<KeyAlgorithm[]> {
  const trusted = await authenticity(passphrase, ring)
  if (trusted !== 'authentic' && trusted !== 'not-required') return []
  const everywhere = (kid: string) =>
    instances.every((i) => {
      const held = i.current().get(kid) ?? i.current().hybridKeys.find((k) => k.kid === kid)
      return held !== undefined && isAccepted(held, now)
    })
  const curves = [...new Set(ring.entries.map((e) => e.crv))]
  return curves.filter((crv) => {
    const standing = ring.entries.filter(
      (e) => e.crv === crv && ['active', 'pending'].includes(stateAt(e, now)),
    )
    return (
      !lacksNextKey(ring.entries, crv, now) &&
      standing.some((e) => isPublished(e, now)) &&
      standing.every((e) => everywhere(e.kid))
    )
  })
}

/** Runs one sequence of steps against a fresh store; throws on the first broken invariant. */
export async function runSequence(
  open: () => Promise<ModelStore>,
  steps: readonly Step[],
  counts: ModelCounts,
): Promise<void> {
  const { store, tamper, close, passphrase } = await open()
  let clock = new Date('2026-06-01T00:00:00Z')
  const follow = () => followKeyStore(store, { logger, pollIntervalMs: 0, subscribe: false })
  // A current and a next P-256 key, as a production ring keeps them.
  await generateInStore(store, 'P-256', 0, clock)
  await generateInStore(store, 'P-256', 0, clock)
  const instances: FollowingKeyRing[] = [await follow(), await follow()]
  /** Kids revoked in a ring that was authentic (or needs no authentication): accepted nowhere. */
  const revokedForGood = new Set<string>()
  /** Per instance, every kid it has seen revoked in any reading since it started. */
  const seenRevoked: Set<string>[] = [new Set(), new Set()]
  /** kid -> when it was destroyed. */
  const destroyedAt = new Map<string, string>()
  const destroyedIds = new Set<number>()
  let tampered = false
  try {
    for (const step of steps) {
      clock = new Date(clock.getTime() + 1000)
      const before = await store.read()
      const kids = before.entries.map((e) => e.kid)
      const kid = (pick: number) => kids[pick % Math.max(1, kids.length)] ?? 'none'
      const mustStayPublished =
        step.op === 'revoke' ? await curvesWithNext(before, instances, passphrase, clock) : []
      let refused = false
      try {
        switch (step.op) {
          case 'generate':
            await generateInStore(store, step.crv, 30, clock)
            break
          case 'rotate':
            await rotateKeys(store, {
              ...(step.crv ? { curves: [step.crv] } : {}),
              graceSeconds: 60,
              publishDelaySeconds: 30,
              now: clock,
            })
            break
          case 'retire':
            await retireInStore(store, kid(step.pick), step.force, clock, step.destroyAfter)
            break
          case 'destroy':
            await destroyInStore(store, kid(step.pick), clock)
            break
          case 'sweep':
            await sweepStore(store, clock)
            break
          case 'revoke':
            // As `keys revoke` does: a curve left without a next key gets a new one, staged.
            await revokeInStore(store, kid(step.pick), clock, { publishDelaySeconds: 30 })
            break
          case 'publish':
            clock = new Date(clock.getTime() + 31_000)
            break
          case 'restart': {
            try {
              const fresh = await follow()
              await instances[step.which]!.close()
              instances[step.which] = fresh
              seenRevoked[step.which] = new Set()
            } catch (error) {
              // Only a tampered, authenticated ring may keep an instance from starting.
              if (!tampered) throw error
            }
            break
          }
          case 'tamper':
            tampered = (await tamper(kid(step.pick))) || tampered
            break
          case 'crash':
            // The command dies after storing its key material, before the ring is written.
            await store.change(async (ring, material) => {
              const change: Change = {
                type: 'generate',
                key: { kid: '-', crv: step.crv },
                publishDelaySeconds: 30,
              }
              applyChange(ring, change, clock)
              await material.addKey(await generateStoredKey(step.crv))
              throw Object.assign(new Error('killed'), { code: 'TEST_KILLED' })
            })
            break
        }
      } catch (error) {
        refused = true
        const code = (error as { code?: string }).code
        if (code === undefined) throw error
      }
      const after = await store.read() // the ring loads
      // ... whole: nothing but a tampered entry is ever left out.
      if (after.invalid.length > 0 && !tampered) {
        throw new Error(`${step.op} left an invalid entry: ${after.invalid[0]!.why}`)
      }
      if (refused) {
        // A refused (or killed) command changed nothing.
        if (after.version !== before.version || after.generation !== before.generation) {
          throw new Error(`${step.op} was refused but changed the ring`)
        }
      }
      const revokedNow = [
        ...after.entries.filter((e) => e.state === 'revoked').map((e) => e.kid),
        ...after.invalid.filter((e) => e.revoked && e.kid !== undefined).map((e) => e.kid!),
      ]
      const trusted = await authenticity(passphrase, after)
      for (const k of revokedNow) {
        if (trusted === 'authentic' || trusted === 'not-required') revokedForGood.add(k)
        for (const seen of seenRevoked) seen.add(k)
      }
      for (const [gone, at] of destroyedAt) {
        const e = after.entries.find((k) => k.kid === gone)
        if (e && (e.state !== 'destroyed' || e.destroyedAt !== at)) {
          throw new Error(`destroyed key ${gone} is ${e.state} after ${step.op}`)
        }
      }
      for (const e of after.entries.filter((k) => k.state === 'destroyed')) {
        if (!destroyedAt.has(e.kid)) {
          destroyedAt.set(e.kid, e.destroyedAt!)
          destroyedIds.add(e.hpkeKeyId)
          const was = before.entries.find((k) => k.kid === e.kid)
          const from = was && stateAt(was, clock)
          if (from && from !== 'retired' && from !== 'revoked') {
            throw new Error(`${e.kid} destroyed from ${from}`)
          }
          // Its private material is gone from the store.
          const read = await after.privateKey(e).then(
            () => true,
            () => false,
          )
          if (read) throw new Error(`destroyed key ${e.kid}: its private key can still be read`)
        }
      }
      const all = [...after.entries, ...after.invalid]
      const kidsNow = all.map((e) => e.kid)
      if (new Set(kidsNow).size !== kidsNow.length && after.invalid.length === 0) {
        throw new Error('duplicate kid')
      }
      const ids = after.entries.map((e) => e.hpkeKeyId)
      if (new Set(ids).size !== ids.length) throw new Error('duplicate hpkeKeyId')
      for (const instance of instances) await instance.reload('model')
      for (const [i, instance] of instances.entries()) {
        for (const k of [...instance.current().keys, ...instance.current().hybridKeys]) {
          const revoked = revokedForGood.has(k.kid) || seenRevoked[i]!.has(k.kid)
          if (revoked && isAccepted(k, clock)) {
            throw new Error(`revoked key ${k.kid} accepted after ${step.op}`)
          }
        }
        for (const id of destroyedIds) {
          if (instance.current().resolveHybrid(id) !== undefined) {
            throw new Error(`destroyed hybrid key ${id} still held after ${step.op}`)
          }
        }
        for (const gone of destroyedAt.keys()) {
          if (instance.current().get(gone) !== undefined) {
            throw new Error(`destroyed key ${gone} still held after ${step.op}`)
          }
        }
      }
      for (const a of instances) {
        for (const published of a.current().active(clock)) {
          for (const [j, b] of instances.entries()) {
            // ... except by an instance that saw it revoked in a tampered ring: it never goes back.
            if (seenRevoked[j]!.has(published.kid)) continue
            const held = b.current().get(published.kid)
            if (!held || !b.current().accepts(held, clock)) {
              throw new Error(`published key ${published.kid} not accepted everywhere`)
            }
          }
        }
      }
      // No gap in an emergency: a curve that had a next key still publishes a key everywhere.
      if (mustStayPublished.length > 0 && (await authenticity(passphrase, after)) !== 'tampered') {
        for (const crv of mustStayPublished) {
          for (const instance of instances) {
            const keys = publishedOf(instance, crv, clock)
            const everywhere = keys.some((k) =>
              instances.every((other) => {
                const held =
                  other.current().get(k.kid) ??
                  other.current().hybridKeys.find((h) => h.kid === k.kid)
                return held !== undefined && isAccepted(held, clock)
              }),
            )
            if (!everywhere) throw new Error(`${crv} has no published key after revoke`)
          }
        }
        counts.revocationsWithNext = (counts.revocationsWithNext ?? 0) + 1
      }
      counts.steps++
    }
    counts.sequences++
  } finally {
    for (const instance of instances) await instance.close()
    await close()
  }
}

/** fast-check over `runs` sequences of up to `maxSteps` steps. */
export async function checkCustodyModel(
  open: () => Promise<ModelStore>,
  runs: number,
  maxSteps = 10,
  seed?: number,
): Promise<ModelCounts> {
  const counts: ModelCounts = { sequences: 0, steps: 0 }
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: maxSteps }), (steps) =>
      runSequence(open, steps, counts),
    ),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
  )
  return counts
}
