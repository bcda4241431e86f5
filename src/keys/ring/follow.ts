import type { Logger } from '../../log/logger.js'
import { KeyStoreError } from '../errors.js'
import { authenticityError } from '../stores/ring-mac.js'
import type { KeyStore, StoredRing, StoreSubscription } from '../stores/key-store.js'
import type { HybridRingKey, OpenedXWingKey } from './hybrid-key.js'
import { KeyRing, type KeyRingSource, type RingStatus } from './keyring.js'
import type { RingKey } from './ring-key.js'
import { openStoredKey, placeKey, type OpenedKey } from './open-key.js'
import { stateAt } from '../stores/manifest.js'
import { holdPublication, measureSkew, storeTime } from './clock-skew.js'
import { freshnessWatch, type Freshness } from './staleness.js'

export interface FollowOptions {
  logger: Logger
  /** The time of loads and failures (status()); tests set it. */
  clock?: () => Date
  /** Reads the store's version this often (KEYS_POLL_INTERVAL); 0 never polls. */
  pollIntervalMs: number
  /** Follow notifications / file events too (default true). */
  subscribe?: boolean
  /** Called with each ring put in place, and its version. */
  onReload?: (ring: KeyRing, version: number) => void
  /**
   * Called after every load and every failed poll with how it went: a failed load has errors
   * (the store could not be read, or a key it accepts could not be opened).
   */
  onStatus?: (status: RingStatus) => void
  /** Called on every poll, after any reload: states change with the clock (pending keys). */
  onTick?: (ring: KeyRing) => void
  /**
   * Seconds this host's clock may differ from the store's (KEYS_MAX_CLOCK_SKEW) before the
   * instance publishes no pending key (clock-skew.ts); default 2.
   */
  maxClockSkewSeconds?: number
  /** Called with every measured skew (seconds, positive: this host ahead) and whether it holds. */
  onClockSkew?: (skewSeconds: number, holding: boolean) => void
  /**
   * KEYS_FAIL_CLOSED_AFTER: once the store has been read from nowhere for longer than this,
   * `freshness()` says 'fail-closed' and searches that decrypt answer 503. Undefined: never.
   */
  failClosedAfterMs?: number
  /** Called once when decryption stops for staleness (true) and once when it resumes (false). */
  onFailClosed?: (failClosed: boolean) => void
}

export interface FollowingKeyRing extends KeyRingSource {
  /** The version of the ring in place (ring-version.ts). */
  version(): number
  /** The highest ring generation applied (ring-mac.ts); a lower one is refused. */
  generation(): number
  /** When the ring in place was loaded. */
  loadedAt(): Date
  status(): RingStatus
  /** Whether the ring in place may still decrypt (staleness.ts). */
  freshness(): Freshness
  /**
   * Reads the store again; resolves true when a ring was put in place. `retryFailed`: keys that
   * failed with unchanged bytes are opened again too (the operator's SIGHUP: a PKCS#11 token
   * whose PIN was refused gets one more login).
   */
  reload(reason: string, options?: { retryFailed?: boolean }): Promise<boolean>
  close(): Promise<void>
}

/**
 * Builds a ring from a reading of the store. Retired, revoked and destroyed keys are left out: they are
 * refused from their entry alone, whether or not their private key can still be read. A private
 * key is opened once per kid (the kid is the public key's thumbprint, and `openKey` checks that
 * d belongs to it), so a change of states does not open every sealed key again. A key that
 * cannot be opened fails alone: it is left out, named in the error, and the rest loads; so does
 * a stored entry the store could not read (StoredRing.invalid).
 */
export async function ringFromStore(
  stored: StoredRing,
  cache: Map<string, OpenedKey | OpenedXWingKey>,
  onKeyError: (error: unknown) => void = () => {},
  failed: Map<string, { stamp: string; error: unknown }> = new Map(),
): Promise<KeyRing> {
  const keys: RingKey[] = []
  const hybrid: HybridRingKey[] = []
  // Left out by the store (a malformed entry, a duplicate id): named, and accepted nowhere.
  for (const bad of stored.invalid) {
    onKeyError(new KeyStoreError('ERR_KEYS_ENTRY_INVALID', `${bad.why}: left out of the ring`))
  }
  for (const entry of stored.entries) {
    if (entry.state === 'retired' || entry.state === 'revoked' || entry.state === 'destroyed') {
      continue
    }
    let opened = cache.get(entry.kid)
    if (!opened) {
      // A key that failed with these very bytes fails again: no second derivation for it.
      const stamp = await stored.stamp?.(entry)
      const before = failed.get(entry.kid)
      if (stamp !== undefined && before?.stamp === stamp) {
        onKeyError(before.error)
        continue
      }
      try {
        opened = await openStoredKey(stored, entry)
      } catch (error) {
        if (stamp !== undefined) failed.set(entry.kid, { stamp, error })
        onKeyError(error)
        continue
      }
      failed.delete(entry.kid)
      cache.set(entry.kid, opened)
    }
    const { kid, crv, state, created, notAfter, publishAt, retireAt, hpkeKeyId } = entry
    const info = { kid, crv, state, created, notAfter, publishAt, retireAt, hpkeKeyId }
    placeKey(info, opened, keys, hybrid)
  }
  for (const [kid, opened] of cache) {
    if (!keys.some((k) => k.kid === kid) && !hybrid.some((k) => k.kid === kid)) {
      cache.delete(kid)
      forget(opened)
    }
  }
  return new KeyRing(keys, hybrid)
}

/** A key that left the ring: an X-Wing key's expanded private key is overwritten where it is held. */
function forget(opened: OpenedKey | OpenedXWingKey): void {
  if ('decapsulator' in opened) opened.decapsulator.destroy()
}

/** Forgets every key of a cache that ringFromStore filled, once its ring is no longer used. */
export function forgetOpenedKeys(cache: Map<string, OpenedKey | OpenedXWingKey>): void {
  for (const opened of cache.values()) forget(opened)
  cache.clear()
}

/** Why an instance refuses a reading of its store, or undefined when it may use it. */
export function refusal(
  stored: StoredRing,
  location: string,
  appliedGeneration = 0,
): KeyStoreError | undefined {
  const { authenticity } = stored
  if (authenticity !== 'authentic' && authenticity !== 'not-required') {
    return authenticityError(authenticity, location)
  }
  if (stored.generation < appliedGeneration) {
    return new KeyStoreError(
      'ERR_KEYS_RING_ROLLBACK',
      `${location}: ring generation ${stored.generation} is older than ${appliedGeneration}, which this instance has applied; refused`,
    )
  }
  return undefined
}

/** Every kid a reading says is revoked, authentic or not: a revocation only ever takes away. */
function revokedIn(stored: StoredRing): string[] {
  return [
    ...stored.entries.filter((e) => e.state === 'revoked').map((e) => e.kid),
    ...stored.invalid.filter((e) => e.revoked && e.kid !== undefined).map((e) => e.kid!),
  ]
}

/**
 * A key ring that follows its store: it reloads on each notification (LISTEN/NOTIFY, a file
 * event) and when a poll every `pollIntervalMs` finds another stored version, so a lost
 * notification costs at most one interval. A store that cannot be read never replaces a good
 * ring; one load at a time, and changes during a load cause exactly one more.
 */
export async function followKeyStore(
  store: KeyStore,
  options: FollowOptions,
): Promise<FollowingKeyRing> {
  const { logger } = options
  const clock = options.clock ?? (() => new Date())
  const cache = new Map<string, OpenedKey | OpenedXWingKey>()
  const failed = new Map<string, { stamp: string; error: unknown }>()
  const codeOf = (error: unknown) => (error as { code?: string }).code ?? 'ERR_KEYS_UNKNOWN'
  const report = (reason: string, error: unknown) => {
    const e = error as { code?: string; message?: string }
    logger.error(
      { reason, code: e.code, error: e.message, store: store.kind },
      'key ring reload failed; keeping the last good ring',
    )
  }
  const emit = () => options.onStatus?.(status())
  const status = (): RingStatus => ({
    lastGoodLoad,
    staleSince,
    lastRead,
    errors,
    ...(skew === undefined ? {} : { clockSkewSeconds: skew }),
  })

  // One clock: the store's. Measured at start and every poll; beyond the bound, publication
  // is judged by the store's time and held (clock-skew.ts), never by this host's clock.
  const maxSkew = options.maxClockSkewSeconds ?? 2
  let skew: number | undefined
  let holding = false
  let held: { from: KeyRing; ring: KeyRing } | undefined
  const current = (): KeyRing => {
    if (!holding || skew === undefined) return ring
    if (held?.from !== ring) held = { from: ring, ring: holdPublication(ring, storeTime(skew)) }
    return held.ring
  }
  const measureClock = async () => {
    if (!store.now) return
    try {
      skew = (await measureSkew(() => store.now!())).skewSeconds
    } catch {
      return // the store cannot be read: the poll reports that
    }
    const over = Math.abs(skew) > maxSkew
    const fields = { skewSeconds: Number(skew.toFixed(3)), maxClockSkewSeconds: maxSkew }
    if (over && !holding) {
      logger.warn(
        fields,
        "this host's clock differs from the database's by more than KEYS_MAX_CLOCK_SKEW: no pending key is published until it is back within the bound",
      )
    } else if (!over && holding) {
      logger.info(fields, "this host's clock is back within KEYS_MAX_CLOCK_SKEW")
    }
    holding = over
    held = undefined
    options.onClockSkew?.(skew, holding)
  }
  // The ring in place stays, and may be missing a change: the store could not be read (from any
  // of its hosts), or what it holds was refused.
  const storeFailed = (reason: string, error: unknown) => {
    report(reason, error)
    staleSince ??= clock()
    errors = [codeOf(error)]
    emit()
    freshness()
  }
  const watch = freshnessWatch({
    boundMs: options.failClosedAfterMs,
    clock,
    onChange: (failClosed, f) => {
      options.onFailClosed?.(failClosed)
      const since = f.state === 'fail-closed' ? f.since.toISOString() : undefined
      if (failClosed) {
        logger.error(
          { code: 'ERR_KEYS_RING_STALE', since, store: store.kind },
          'the key ring has been read from no host for longer than KEYS_FAIL_CLOSED_AFTER: searches that decrypt answer 503 until it is read again',
        )
      } else {
        logger.warn({ store: store.kind }, 'the key ring is read again: searches decrypt again')
      }
    },
  })
  const freshness = (): Freshness => watch.check(lastRead)

  // Kids this instance has seen revoked: never accepted again, whatever a later reading says.
  const revoked = new Set<string>()
  const withoutRevoked = (r: KeyRing) => {
    const kept = (k: { kid: string }) => !revoked.has(k.kid)
    return r.keys.every(kept) && r.hybridKeys.every(kept)
      ? r
      : new KeyRing(r.keys.filter(kept), r.hybridKeys.filter(kept))
  }

  const loadOnce = async (reason: string): Promise<boolean> => {
    let stored: StoredRing
    try {
      stored = await store.read()
    } catch (error) {
      storeFailed(reason, error)
      return false
    }
    // Read: whatever it holds, its revocations apply from here on, so the ring is not stale.
    lastRead = clock()
    for (const kid of revokedIn(stored)) revoked.add(kid)
    const refused = refusal(stored, store.location, generation)
    if (refused) {
      // Nothing of this reading is used, except that its revocations hold (they only take away).
      ring = withoutRevoked(ring)
      options.onReload?.(current(), version)
      storeFailed(reason, refused)
      return false
    }
    const keyErrors: string[] = []
    const next = withoutRevoked(
      await ringFromStore(
        stored,
        cache,
        (error) => {
          keyErrors.push(codeOf(error))
          report(reason, error)
        },
        failed,
      ),
    )
    generation = stored.generation
    const changed = stored.version !== version
    ring = next
    version = stored.version
    loadedAt = clock()
    staleSince = undefined
    errors = keyErrors
    if (errors.length === 0) lastGoodLoad = loadedAt
    options.onReload?.(current(), version)
    emit()
    freshness()
    const now = new Date()
    logger.info(
      {
        reason,
        version,
        ...(changed ? {} : { unchanged: true }),
        keys: stored.entries.map((k) => ({ kid: k.kid, crv: k.crv, state: stateAt(k, now) })),
      },
      'key ring reloaded',
    )
    return true
  }

  // Start-up: a store that cannot be read, or a ring that is not authentic, stops it; a key that
  // cannot be opened is logged.
  const first = await store.read()
  const refused = refusal(first, store.location)
  if (refused) throw refused
  let generation = first.generation
  for (const kid of revokedIn(first)) revoked.add(kid)
  // The last load's error codes: empty when it read the store and opened every key.
  let errors: string[] = []
  let ring = await ringFromStore(
    first,
    cache,
    (error) => {
      errors.push(codeOf(error))
      report('start', error)
    },
    failed,
  )
  let staleSince: Date | undefined
  let lastRead = clock()
  let version = first.version
  let loadedAt = clock()
  let lastGoodLoad: Date | undefined = errors.length > 0 ? undefined : loadedAt
  let seen = first.version
  await measureClock()
  options.onReload?.(current(), version)
  emit()

  let running: Promise<boolean> | undefined
  let again = false
  const reload = (reason: string, { retryFailed = false } = {}): Promise<boolean> => {
    if (retryFailed) failed.clear()
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      let ok = await loadOnce(reason)
      while (again) {
        again = false
        ok = await loadOnce(reason)
      }
      running = undefined
      return ok
    })()
    return running
  }

  const poll = async () => {
    try {
      const stored = await store.version()
      // The ring in place is the stored one: as good as a reading.
      if (stored === seen && errors.length === 0) lastRead = clock()
      // A stored version that differs from the computed one reloads once, not at every poll; a
      // load with errors retries, but a key whose bytes have not changed is not opened again.
      if (stored !== seen || errors.length > 0) {
        if (await reload('poll')) seen = stored
      }
    } catch (error) {
      storeFailed('poll', error)
    }
    await measureClock()
    options.onTick?.(current())
    freshness()
  }

  let timer: NodeJS.Timeout | undefined
  let polling: Promise<void> | undefined
  if (options.pollIntervalMs > 0) {
    timer = setInterval(() => {
      // Judged on the timer, not after the poll: a read that hangs must not keep the ring current.
      freshness()
      if (!polling) polling = poll().finally(() => (polling = undefined))
    }, options.pollIntervalMs)
    timer.unref()
  }

  let subscription: StoreSubscription | undefined
  if (options.subscribe !== false) {
    subscription = await store.subscribe({
      changed: (reason) => void reload(reason),
      resumed: (reason) => {
        logger.info({ reason, store: store.kind }, 'key store subscription resumed; reloading')
        void reload(reason)
      },
      lost: (error) => {
        const e = error as { code?: string; message?: string }
        logger.warn(
          { code: e.code, error: e.message, store: store.kind },
          'key store subscription lost; polling until it is back',
        )
      },
    })
  }

  return {
    current,
    version: () => version,
    generation: () => generation,
    loadedAt: () => loadedAt,
    status,
    freshness,
    reload,
    async close() {
      clearInterval(timer)
      await subscription?.close()
      await polling
      await running
      forgetOpenedKeys(cache)
    },
  }
}

/**
 * Start-up without an active key: the reason, never advice that makes it worse. A key that would
 * not open under the passphrase says so (generating another key would seal it under the wrong one).
 */
export function noActiveKey(location: string, errors: readonly string[]): KeyStoreError {
  if (errors.includes('ERR_KEYS_PASSPHRASE') || errors.includes('ERR_KEYS_PASSPHRASE_WRONG')) {
    return new KeyStoreError(
      'ERR_KEYS_PASSPHRASE_WRONG',
      `${location}: no key opens with KEYS_PASSPHRASE: the passphrase is wrong, or the keys were sealed under another`,
    )
  }
  if (errors.length > 0) {
    return new KeyStoreError(
      'ERR_KEYS_NONE_ACTIVE',
      `${location}: no active key could be loaded (${errors.join(', ')}); run: npm run keys -- doctor`,
    )
  }
  return new KeyStoreError(
    'ERR_KEYS_NONE_ACTIVE',
    `${location}: no active key; run: npm run keys -- generate`,
  )
}
