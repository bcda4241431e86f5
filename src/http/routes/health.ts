import { Hono } from 'hono'
import type { KeyRingSource } from '../../keys/ring/keyring.js'
import { databaseAnswers, type Database } from '../../search/index.js'
import type { AppEnv } from '../env.js'
import { HttpError } from '../errors.js'

/**
 * Liveness (`/health/live`) and readiness (`/health/ready`: database answers, a key is active,
 * the key store has not been unreadable for longer than allowed).
 * Readiness names the key ring version in place, in its body and (also when not ready) in the
 * `Key-Ring-Version` header, so a fleet's convergence can be read from every instance; the
 * `Key-Ring-Generation` header names the highest ring generation it has applied.
 */
/**
 * How long readiness waits for the database: shorter than a load balancer's or `keys status`'s
 * check (3 s), so a connection that hangs answers 503 with the ring version instead of no answer.
 */
const READINESS_PROBE_MS = 2000

export interface ReadinessOptions {
  clock?: () => Date
  /**
   * Seconds the key store may be unreadable (so the ring in place could miss a revocation)
   * before readiness answers 503 `ERR_KEYS_RING_STALE`; 0 never does.
   */
  ringStaleAfterSeconds?: number
}

export function healthRoutes(
  keys: KeyRingSource,
  sql: Database,
  { clock = () => new Date(), ringStaleAfterSeconds = 300 }: ReadinessOptions = {},
) {
  return new Hono<AppEnv>()
    .get('/live', (c) => c.json({ status: 'ok' }))
    .get('/ready', async function ready(c) {
      const ringVersion = keys.version?.()
      if (ringVersion !== undefined) c.header('Key-Ring-Version', String(ringVersion))
      // This host's clock minus the database's (seconds): `keys status --gateways` reads it.
      const skew = keys.status?.().clockSkewSeconds
      if (skew !== undefined) c.header('Clock-Skew', skew.toFixed(3))
      // What `keys doctor --gateways` compares with the store's to name a rollback.
      const generation = keys.generation?.()
      if (generation !== undefined) c.header('Key-Ring-Generation', String(generation))
      await databaseAnswers(sql, READINESS_PROBE_MS)
      // A refused PIN is not retried (a token locks after a few): only the operator can fix it.
      if (keys.status?.().errors.includes('ERR_KEYS_HSM_PIN_REFUSED')) {
        throw new HttpError(
          503,
          'transient',
          'ERR_KEYS_HSM_PIN_REFUSED',
          'the PKCS#11 token refused the PIN; no login is tried until PKCS11_PIN is fixed and the gateway restarted, or SIGHUP',
          { 'Retry-After': '5' },
        )
      }
      if (keys.current().active().length === 0) {
        throw new HttpError(503, 'transient', 'ERR_INTERNAL', 'no active key', {
          'Retry-After': '5',
        })
      }
      // A key whose store cannot compute (a PKCS#11 token gone) would answer 503 to its partners.
      const probes = keys
        .current()
        .active()
        .flatMap((k) => (k.available ? [k.available()] : []))
      if (probes.length > 0) {
        const timeout = new Promise<boolean[]>((resolve) =>
          setTimeout(() => resolve([false]), READINESS_PROBE_MS).unref(),
        )
        const answers = await Promise.race([Promise.all(probes), timeout])
        if (answers.includes(false)) {
          throw new HttpError(
            503,
            'transient',
            'ERR_KEY_UNAVAILABLE',
            "an active key's store (PKCS#11 token) cannot compute",
            { 'Retry-After': '5' },
          )
        }
      }
      // Searches that decrypt answer 503 already: a balancer should send them elsewhere.
      const freshness = keys.freshness?.()
      if (freshness?.state === 'fail-closed') {
        throw new HttpError(
          503,
          'transient',
          'ERR_KEYS_RING_STALE',
          `the key ring has been read from no host since ${freshness.since.toISOString()}; searches that decrypt answer 503`,
          { 'Retry-After': '5' },
        )
      }
      const stale = keys.status?.().staleSince
      if (
        stale &&
        ringStaleAfterSeconds > 0 &&
        clock().getTime() - stale.getTime() > ringStaleAfterSeconds * 1000
      ) {
        throw new HttpError(
          503,
          'transient',
          'ERR_KEYS_RING_STALE',
          `the key store has not been readable since ${stale.toISOString()}`,
          { 'Retry-After': '5' },
        )
      }
      return c.json(ringVersion === undefined ? { status: 'ok' } : { status: 'ok', ringVersion })
    })
}
