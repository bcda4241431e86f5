import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { KeyRing, RingStatus } from '../keys/ring/keyring.js'
import { stateAt } from '../keys/stores/manifest.js'
import { pkcs11LoginAttempts, pkcs11LoginRefusals } from '../keys/index.js'

/** The `client` label of every client that is not a configured partner (mTLS allowlist). */
export const OTHER_CLIENT = 'other'

/**
 * Prometheus metrics. Label values come from fixed sets (routes, outcome codes, formats), from
 * the key ring's own kids or from the configured partners: nothing a client sends or chooses (not
 * even its address) becomes a label.
 */
export interface Metrics {
  registry: Registry
  requests: Counter<'route' | 'method' | 'status' | 'outcome'>
  duration: Histogram<'route'>
  decryptions: Counter<'kid' | 'format' | 'kem'>
  keyLastUsed: Gauge<'kid'>
  keyState: Gauge<'kid' | 'crv' | 'state'>
  /** The version of the key ring in place: the same on every converged instance. */
  keyRingVersion: Gauge
  /**
   * Searches by the deprecated `mbi-hash` system, per client (a configured partner's mTLS
   * identity, or `other` for everyone else), so an operator sees who still uses it.
   */
  legacyHashRequests: Counter<'client'>
  /**
   * Identifier tokens by client and binding: `bound`, `unbound`, or `mismatch` (a bound token
   * over a connection without its certificate; for HPKE, a bound token that did not open). When
   * every client's `unbound` stays flat, TOKEN_REQUIRE_SENDER_BINDING can be turned on.
   */
  tokenBinding: Counter<'client' | 'binding'>
  /**
   * Records one successful decryption with `kid`; `kem` is the token's KEM (`X-Wing`, `X25519`,
   * `P-256`), so an operator sees each partner's classic share before TOKEN_REQUIRE_PQ.
   */
  keyUsed(kid: string, format: string, now: Date, kem?: string): void
  /** Publishes the ring's keys and states at `now` (after start, every reload and poll). */
  observeRing(ring: KeyRing, now?: Date): void
  /** Publishes the version of the ring in place. */
  observeRingVersion(version: number): void
  /** Key ring loads that failed, by the first error code. */
  keyRingReloadFailures: Counter<'code'>
  /** Unix time of the last load that read the store and opened every key it accepts. */
  keyRingLastGoodLoad: Gauge
  /** Counts a failed load and publishes the last good load time. */
  observeRingStatus(status: RingStatus): void
  /** Unix time since which the key store has been unreadable; 0 while it is readable. */
  keyStoreUnreadableSince: Gauge
  /**
   * 1 while searches that decrypt answer 503 because the key ring has been read from no host for
   * longer than KEYS_FAIL_CLOSED_AFTER; 0 otherwise.
   */
  keyRingFailClosed: Gauge
  /** Unix time of each key's notAfter (keys that have one), so an alert can see it coming. */
  keyNotAfter: Gauge<'kid'>
  /** Identifier tokens that did not open, by client and error code. */
  tokenFailures: Counter<'client' | 'code'>
  /** Reads moved off a read host that could not be reached, by host (`host:port`). */
  readFailovers: Counter<'host'>
  /** Unix time of LEGACY_HASH_SUNSET, exported while the legacy path is enabled. */
  legacyHashSunset: Gauge
  /** This host's clock minus the database's, in seconds, at the last poll (KEY_STORE=postgres). */
  clockSkew: Gauge
  /** 1 while the skew exceeds KEYS_MAX_CLOCK_SKEW and no pending key is published; else 0. */
  clockSkewHolding: Gauge
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry })
  const requests = new Counter({
    name: 'sealed_search_requests_total',
    help: 'HTTP requests by route, method, status and outcome (match, no_match or an error code)',
    labelNames: ['route', 'method', 'status', 'outcome'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'sealed_search_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const decryptions = new Counter({
    name: 'sealed_search_decryptions_total',
    help: 'Identifier tokens decrypted, by key id, token format and KEM (X-Wing, X25519, P-256)',
    labelNames: ['kid', 'format', 'kem'] as const,
    registers: [registry],
  })
  const keyLastUsed = new Gauge({
    name: 'sealed_search_key_last_used_seconds',
    help: 'Unix time of the last successful decryption with each key',
    labelNames: ['kid'] as const,
    registers: [registry],
  })
  const keyState = new Gauge({
    name: 'sealed_search_key_state',
    help: 'Keys in the ring (1 per key, labelled with its curve and state)',
    labelNames: ['kid', 'crv', 'state'] as const,
    registers: [registry],
  })
  const keyRingVersion = new Gauge({
    name: 'sealed_search_key_ring_version',
    help: 'Version of the key ring in place (a hash of its content): equal on converged instances',
    registers: [registry],
  })
  const legacyHashRequests = new Counter({
    name: 'sealed_search_legacy_hash_requests_total',
    help: 'Searches by the deprecated mbi-hash identifier system, by client',
    labelNames: ['client'] as const,
    registers: [registry],
  })
  const keyRingReloadFailures = new Counter({
    name: 'sealed_search_key_ring_reload_failures_total',
    help: 'Key ring loads that failed: the store could not be read, or a key it accepts could not be opened (by error code)',
    labelNames: ['code'] as const,
    registers: [registry],
  })
  const keyRingLastGoodLoad = new Gauge({
    name: 'sealed_search_key_ring_last_good_load_seconds',
    help: 'Unix time of the last key ring load that read the store and opened every key it accepts',
    registers: [registry],
  })
  const tokenBinding = new Counter({
    name: 'sealed_search_token_binding_total',
    help: 'Identifier tokens by client and sender binding (bound, unbound, mismatch)',
    labelNames: ['client', 'binding'] as const,
    registers: [registry],
  })
  // The token's own answers, read at each scrape: logins tried, and a refused PIN holding them back.
  new Counter({
    name: 'sealed_search_pkcs11_logins_total',
    help: 'PKCS#11 user logins tried, by result (ok or the CKR_ code)',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const [result, n] of pkcs11LoginAttempts()) this.inc({ result }, n)
    },
  })
  new Gauge({
    name: 'sealed_search_pkcs11_login_refused',
    help: 'PKCS#11 tokens whose PIN was refused (by CKR_ code): no login is tried until SIGHUP or another PIN',
    labelNames: ['code'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const code of pkcs11LoginRefusals()) this.inc({ code })
    },
  })
  const keyStoreUnreadableSince = new Gauge({
    name: 'sealed_search_key_store_unreadable_since_seconds',
    help: 'Unix time since which the key store could not be read (the ring in place may miss a change); 0 while it can',
    registers: [registry],
  })
  keyStoreUnreadableSince.set(0)
  const keyRingFailClosed = new Gauge({
    name: 'sealed_search_key_ring_fail_closed',
    help: '1 while searches that decrypt answer 503 ERR_KEYS_RING_STALE: the key ring has been read from no host for longer than KEYS_FAIL_CLOSED_AFTER; else 0',
    registers: [registry],
  })
  keyRingFailClosed.set(0)
  const keyNotAfter = new Gauge({
    name: 'sealed_search_key_not_after_seconds',
    help: 'Unix time after which each key (that has a notAfter) is no longer accepted',
    labelNames: ['kid'] as const,
    registers: [registry],
  })
  const tokenFailures = new Counter({
    name: 'sealed_search_token_failures_total',
    help: 'Identifier tokens that could not be opened, by client and error code',
    labelNames: ['client', 'code'] as const,
    registers: [registry],
  })
  const readFailovers = new Counter({
    name: 'sealed_search_db_read_failovers_total',
    help: 'Reads moved off a read host that could not be reached, by host',
    labelNames: ['host'] as const,
    registers: [registry],
  })
  const legacyHashSunset = new Gauge({
    name: 'sealed_search_legacy_hash_sunset_seconds',
    help: 'Unix time of LEGACY_HASH_SUNSET (exported while the mbi-hash search is enabled)',
    registers: [registry],
  })
  const clockSkew = new Gauge({
    name: 'sealed_search_clock_skew_seconds',
    help: "This host's clock minus the database's, in seconds, measured at every key ring poll (0 with KEY_STORE=dir)",
    registers: [registry],
  })
  const clockSkewHolding = new Gauge({
    name: 'sealed_search_clock_skew_holding',
    help: '1 while the clock skew exceeds KEYS_MAX_CLOCK_SKEW and pending keys are not published',
    registers: [registry],
  })
  return {
    registry,
    clockSkew,
    clockSkewHolding,
    keyStoreUnreadableSince,
    keyRingFailClosed,
    keyNotAfter,
    tokenFailures,
    readFailovers,
    legacyHashSunset,
    keyRingReloadFailures,
    keyRingLastGoodLoad,
    observeRingStatus(status) {
      if (status.errors[0]) keyRingReloadFailures.inc({ code: status.errors[0] })
      if (status.lastGoodLoad) keyRingLastGoodLoad.set(status.lastGoodLoad.getTime() / 1000)
      keyStoreUnreadableSince.set(status.staleSince ? status.staleSince.getTime() / 1000 : 0)
    },
    tokenBinding,
    requests,
    duration,
    decryptions,
    keyLastUsed,
    keyState,
    keyRingVersion,
    legacyHashRequests,
    keyUsed(kid, format, now, kem = 'unknown') {
      decryptions.inc({ kid, format, kem })
      keyLastUsed.set({ kid }, now.getTime() / 1000)
    },
    observeRing(ring, now = new Date()) {
      keyState.reset()
      keyNotAfter.reset()
      for (const k of [...ring.keys, ...ring.hybridKeys]) {
        keyState.set({ kid: k.kid, crv: k.crv, state: stateAt(k, now) }, 1)
        if (k.notAfter) keyNotAfter.set({ kid: k.kid }, Date.parse(k.notAfter) / 1000)
      }
    },
    observeRingVersion(version) {
      keyRingVersion.set(version)
    },
  }
}

/** Reads `sealed_search_key_last_used_seconds` per kid from a metrics exposition text. */
export function parseKeyLastUsed(text: string): Map<string, Date> {
  const out = new Map<string, Date>()
  const line = /^sealed_search_key_last_used_seconds\{kid="([A-Za-z0-9_-]+)"\} ([0-9.e+]+)$/gm
  for (const m of text.matchAll(line)) out.set(m[1]!, new Date(Number(m[2]) * 1000))
  return out
}

/** The latest use of each kid across several instances' `parseKeyLastUsed` results. */
export function latestKeyUse(perInstance: readonly Map<string, Date>[]): Map<string, Date> {
  const out = new Map<string, Date>()
  for (const used of perInstance) {
    for (const [kid, at] of used) {
      const seen = out.get(kid)
      if (!seen || at > seen) out.set(kid, at)
    }
  }
  return out
}
