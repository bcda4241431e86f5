import type { Logger } from '../../log/logger.js'
import type { KeyStore, StoredRing, StoreSubscription } from '../stores/key-store.js'
import type { HybridRingKey, OpenedXWingKey } from './hybrid-key.js'
import {
  KeyRing,
  openStoredKey,
  placeKey,
  type KeyRingSource,
  type OpenedKey,
  type RingKey,
  type RingStatus,
} from './keyring.js'
import { stateAt } from '../stores/manifest.js'

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
}

export interface FollowingKeyRing extends KeyRingSource {
  /** The version of the ring in place (ring-version.ts). */
  version(): number
  /** When the ring in place was loaded. */
  loadedAt(): Date
  status(): RingStatus
  /** Reads the store again; resolves true when a ring was put in place. */
  reload(reason: string): Promise<boolean>
  close(): Promise<void>
}

/**
 * Builds a ring from a reading of the store. Retired, revoked and destroyed keys are left out: they are
 * refused from their entry alone, whether or not their private key can still be read. A private
 * key is opened once per kid (the kid is the public key's thumbprint, and `openKey` checks that
 * d belongs to it), so a change of states does not open every sealed key again. A key that
 * cannot be opened fails alone: it is left out, named in the error, and the rest loads.
 */
export async function ringFromStore(
  stored: StoredRing,
  cache: Map<string, OpenedKey | OpenedXWingKey>,
  onKeyError: (error: unknown) => void = () => {},
): Promise<KeyRing> {
  const keys: RingKey[] = []
  const hybrid: HybridRingKey[] = []
  for (const entry of stored.entries) {
    if (entry.state === 'retired' || entry.state === 'revoked' || entry.state === 'destroyed') {
      continue
    }
    let opened = cache.get(entry.kid)
    if (!opened) {
      try {
        opened = await openStoredKey(stored, entry)
      } catch (error) {
        onKeyError(error)
        continue
      }
      cache.set(entry.kid, opened)
    }
    const { kid, crv, state, created, notAfter, publishAt, retireAt, hpkeKeyId } = entry
    const info = { kid, crv, state, created, notAfter, publishAt, retireAt, hpkeKeyId }
    placeKey(info, opened, keys, hybrid)
  }
  for (const kid of cache.keys()) {
    if (!keys.some((k) => k.kid === kid) && !hybrid.some((k) => k.kid === kid)) cache.delete(kid)
  }
  return new KeyRing(keys, hybrid)
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
  const codeOf = (error: unknown) => (error as { code?: string }).code ?? 'ERR_KEYS_UNKNOWN'
  const report = (reason: string, error: unknown) => {
    const e = error as { code?: string; message?: string }
    logger.error(
      { reason, code: e.code, error: e.message, store: store.kind },
      'key ring reload failed; keeping the last good ring',
    )
  }
  const emit = () => options.onStatus?.(status())
  const status = (): RingStatus => ({ lastGoodLoad, staleSince, errors })
  // The store could not be read: the ring in place stays, and may be missing a change.
  const storeFailed = (reason: string, error: unknown) => {
    report(reason, error)
    staleSince ??= clock()
    errors = [codeOf(error)]
    emit()
  }

  const loadOnce = async (reason: string): Promise<boolean> => {
    let stored: StoredRing
    try {
      stored = await store.read()
    } catch (error) {
      storeFailed(reason, error)
      return false
    }
    const keyErrors: string[] = []
    const next = await ringFromStore(stored, cache, (error) => {
      keyErrors.push(codeOf(error))
      report(reason, error)
    })
    const changed = stored.version !== version
    ring = next
    version = stored.version
    loadedAt = clock()
    staleSince = undefined
    errors = keyErrors
    if (errors.length === 0) lastGoodLoad = loadedAt
    options.onReload?.(next, version)
    emit()
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

  // Start-up: a store that cannot be read stops it; a key that cannot be opened is logged.
  const first = await store.read()
  // The last load's error codes: empty when it read the store and opened every key.
  let errors: string[] = []
  let ring = await ringFromStore(first, cache, (error) => {
    errors.push(codeOf(error))
    report('start', error)
  })
  let staleSince: Date | undefined
  let version = first.version
  let loadedAt = clock()
  let lastGoodLoad: Date | undefined = errors.length > 0 ? undefined : loadedAt
  let seen = first.version
  options.onReload?.(ring, version)
  emit()

  let running: Promise<boolean> | undefined
  let again = false
  const reload = (reason: string): Promise<boolean> => {
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
      const current = await store.version()
      if (current !== seen || current !== version || errors.length > 0) {
        if (await reload('poll')) seen = current
      }
    } catch (error) {
      storeFailed('poll', error)
    }
    options.onTick?.(ring)
  }

  let timer: NodeJS.Timeout | undefined
  let polling: Promise<void> | undefined
  if (options.pollIntervalMs > 0) {
    timer = setInterval(() => {
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
    current: () => ring,
    version: () => version,
    loadedAt: () => loadedAt,
    status,
    reload,
    async close() {
      clearInterval(timer)
      await subscription?.close()
      await polling
      await running
    },
  }
}
