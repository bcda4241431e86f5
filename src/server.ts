import { readFile } from 'node:fs/promises'
import type { ServerType } from '@hono/node-server'
import { baseUrl, type Config } from './config/index.js'
import { hasCurrentMbi, hasNoBeneficiaries } from './db/beneficiaries.js'
import { openDatabase, type Database } from './db/connect.js'
import { DatabaseError, isUnavailable } from './db/errors.js'
import { migrate, pendingMigrations } from './db/migrate.js'
import { seed, seededMbi } from './db/seed.js'
import { operationOutcome } from './fhir/outcome.js'
import { FHIR_JSON } from './fhir/systems.js'
import { createApp } from './http/app.js'
import { checkPortFree, listen } from './http/listen.js'
import { auditDestination, createAudit } from './log/audit.js'
import { flushed } from './log/destination.js'
import { requireFleetAuditKey } from './db/audit-key.js'
import { ensureDevelopmentKeys } from './keys/custody/bootstrap.js'
import { ensureKeyInStore } from './keys/custody/custody.js'
import { followKeyStore, noActiveKey, type FollowingKeyRing } from './keys/ring/follow.js'
import { gatewayKeyStore } from './keys/stores/gateway-store.js'
import { requireKeyDirectory } from './keys/stores/dir-exists.js'
import { createMetrics } from './metrics/index.js'
import type { Logger } from './log/logger.js'
import type { Tracing } from './tracing/provider.js'
import { chooseKey, encryptMbiJwe, patientSearchUrl } from '@sealed-search/client'

export interface RunningGateway {
  url: string
  server: ServerType
  db: Database
  keys: FollowingKeyRing
  /** A ready-to-paste search for a seeded beneficiary (ciphertext only), when one exists. */
  exampleUrl: string | undefined
  close(): Promise<void>
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
  return String(pkg.version)
}

/**
 * The once-per-deployment steps before serving: schema migrations, seeding an empty embedded
 * database, a development key when none exists. A cluster primary runs them before forking.
 */
export async function prepareGateway(config: Config, db: Database, logger: Logger): Promise<void> {
  let applied: number[]
  try {
    applied = await migrate(db.sql)
  } catch (error) {
    if (!(config.db.readUrl && isUnavailable(error))) throw error
    await checkReadSchema(db, logger)
    applied = []
  }
  if (applied.length) logger.info({ migrations: applied }, 'schema migrated')
  if (db.embedded && config.db.seedCount > 0 && (await hasNoBeneficiaries(db.sql))) {
    await seed(db.sql, { count: config.db.seedCount })
    logger.info({ count: config.db.seedCount }, 'seeded synthetic beneficiaries')
  }
  if (config.keys.autoGenerate && config.keys.store === 'dir') {
    const kids = await ensureDevelopmentKeys(config.keys.dir, {
      passphrase: config.keys.passphrase,
    })
    // One key per curve of DEVELOPMENT_CURVES; the message is the one operators grep for.
    if (kids.length > 0)
      logger.warn({ kids, dir: config.keys.dir }, 'generated a development key pair')
  }
  if (config.keys.autoGenerate && config.keys.store === 'postgres') {
    const store = gatewayKeyStore(config, { listen: false })
    try {
      const added = await ensureKeyInStore(store)
      if (added.length > 0) {
        const kids = added.map((k) => k.kid)
        logger.warn({ kids, store: 'postgres' }, 'generated a development key pair')
      }
    } finally {
      await store.close()
    }
  }
}

/**
 * The primary is out of reach but a read URL is set: the gateway can serve searches, if the
 * read database already has every migration this version needs (a hot standby cannot apply one).
 */
async function checkReadSchema(db: Database, logger: Logger): Promise<void> {
  const pending = await db.reads.read((sql) => pendingMigrations(sql))
  logger.warn(
    { pending, read: db.reads.hosts },
    'primary unreachable at start-up: migrations checked, not applied',
  )
  if (pending.length) {
    throw new DatabaseError(
      'ERR_DB_MIGRATION_PENDING',
      `the read database lacks migrations ${pending.join(', ')}; start once with the primary reachable`,
    )
  }
}

export interface StartOptions {
  /** prepareGateway has run already (in a cluster primary): a worker only serves. */
  prepared?: boolean
}

/** Starts the whole gateway from a validated config: database, schema, keys, HTTP. */
export async function startGateway(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningGateway> {
  // A port in use is one line at once, not after the database is opened and seeded.
  if (!options.prepared) await checkPortFree(config.server.host, config.server.port)
  const metrics = createMetrics()
  let tracing: Tracing | undefined
  const db = await openDatabase(config.db, {
    onHostDown: (host) => metrics.readFailovers.inc({ host }),
  })
  try {
    if (!options.prepared) await prepareGateway(config, db, logger)
    if (config.keys.store === 'postgres') {
      const check = await requireFleetAuditKey(db.sql, config.audit.hmacKey)
      if (check === 'recorded') logger.info("recorded the fleet's audit key check value")
    }
    // Without KEYS_AUTOGENERATE nothing makes the key directory: a missing one is one line.
    if (config.keys.store === 'dir' && !config.keys.autoGenerate) {
      await requireKeyDirectory(config.keys.dir, 'KEYS_DIR')
    }
    // The ring follows its store: LISTEN/NOTIFY or the directory watch, and a poll of its version;
    // with the primary out of reach, the poll reads DATABASE_READ_URL's hosts.
    const store = gatewayKeyStore(config, {
      readHosts: db.readHosts,
      onHostDown: (host) => metrics.readFailovers.inc({ host }),
    })
    let keys: FollowingKeyRing
    try {
      keys = await followKeyStore(store, {
        logger,
        pollIntervalMs: config.keys.pollIntervalSeconds * 1000,
        subscribe: config.keys.store === 'postgres' || config.keys.watch,
        onReload: (ring, version) => {
          metrics.observeRing(ring)
          metrics.observeRingVersion(version)
        },
        onTick: (ring) => metrics.observeRing(ring),
        maxClockSkewSeconds: config.keys.maxClockSkewSeconds,
        onClockSkew: (skew, holding) => {
          metrics.clockSkew.set(skew)
          metrics.clockSkewHolding.set(holding ? 1 : 0)
        },
        onStatus: (status) => metrics.observeRingStatus(status),
        failClosedAfterMs: config.keys.failClosedAfterSeconds * 1000,
        onFailClosed: (failClosed) => metrics.keyRingFailClosed.set(failClosed ? 1 : 0),
      })
    } catch (error) {
      await store.close()
      throw error
    }
    const ring = keys.current()
    // A refused PIN keeps the gateway up and unready (503 ERR_KEYS_HSM_PIN_REFUSED) instead of
    // stopping it: a supervisor restarting it would try the PIN again at every start, and a
    // token locks after a few wrong ones. SIGHUP tries once more.
    const pinRefused = keys.status().errors.includes('ERR_KEYS_HSM_PIN_REFUSED')
    if (ring.active().length === 0 && pinRefused) {
      logger.error(
        { code: 'ERR_KEYS_HSM_PIN_REFUSED', store: store.location },
        'no active key: the PKCS#11 token refused PKCS11_PIN; serving unready, no further login until SIGHUP or a restart with another PIN',
      )
    } else if (ring.active().length === 0) {
      await keys.close()
      await store.close()
      throw noActiveKey(store.location, keys.status().errors)
    }
    // Listen first, so that with PORT=0 the links can name the port the system assigned; the
    // app is in place before start-up resolves, so no request is served without it.
    const late: { app?: ReturnType<typeof createApp> } = {}
    const starting = JSON.stringify(operationOutcome('transient', 'the gateway is starting'))
    const server = await listen(
      (request, env) =>
        late.app
          ? late.app.fetch(request, env)
          : new Response(starting, {
              status: 503,
              headers: { 'Content-Type': FHIR_JSON, 'Retry-After': '1' },
            }),
      { host: config.server.host, port: config.server.port, tls: config.tls, logger },
    )
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : config.server.port
    const url = baseUrl(config, port)
    if (!config.audit.hmacKey) {
      logger.warn(
        'AUDIT_HMAC_KEY is not set: audit fingerprints correlate within this process only',
      )
    }
    if (config.features.legacyHash) {
      const sunset = config.features.legacyHash.sunset.toISOString()
      logger.warn({ sunset }, 'the deprecated mbi-hash search is enabled (LEGACY_HASH_ENABLED)')
      metrics.legacyHashSunset.set(config.features.legacyHash.sunset.getTime() / 1000)
    }
    const version = await packageVersion()
    // Loaded only when traces are asked for: off, the gateway does not load the SDK at all.
    tracing = config.server.otlpEndpoint
      ? (await import('./tracing/provider.js')).startTracing(config.server.otlpEndpoint, version)
      : undefined
    const auditTrail = auditDestination(config.audit.log, config.server.logFlushMs)
    late.app = createApp({
      keys,
      logHealthChecks: config.server.logHealthChecks,
      ...(tracing ? { tracer: tracing.tracer } : {}),
      metrics,
      audit: createAudit(auditTrail, config.audit.hmacKey),
      tokenPolicy: config.tokens,
      dbQueryTimeoutMs: config.db.queryTimeoutSeconds * 1000,
      ...(config.tls
        ? {
            clientAllowlist: config.tls.clientAllowlist,
            boundClients: config.tls.boundClients,
            pqClients: config.tls.pqClients,
          }
        : {}),
      // Searches and readiness read from DATABASE_READ_URL's hosts (or the primary).
      sql: db.reads,
      logger,
      publicBaseUrl: url,
      jwksMaxAgeSeconds: config.keys.jwksMaxAgeSeconds,
      keyRingStaleAfterSeconds: config.keys.staleReadySeconds,
      version,
      features: config.features,
    })
    // The example searches for the first seeded beneficiary, so it is offered only when that one
    // is there (an index probe: start-up does not count a table of millions).
    let exampleUrl: string | undefined
    // On a standby that has not replayed the migrations yet, the table may not exist: no example.
    const seeded = await db.reads.read((sql) => hasCurrentMbi(sql, seededMbi(0))).catch(() => false)
    if (seeded && ring.active().length > 0) {
      const token = await encryptMbiJwe(seededMbi(0), chooseKey(ring.jwks()))
      exampleUrl = patientSearchUrl(url, token)
    }
    return {
      url,
      server,
      db,
      exampleUrl,
      keys,
      async close() {
        await keys.close()
        await store.close()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        // Every request has been answered and audited: the records still gathered go out now.
        await flushed(auditTrail)
        await tracing?.shutdown()
        await db.close()
      },
    }
  } catch (error) {
    await tracing?.shutdown()
    await db.close()
    throw error
  }
}
