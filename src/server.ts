import { readFile } from 'node:fs/promises'
import { serve, type ServerType } from '@hono/node-server'
import { baseUrl, type Config } from './config/index.js'
import { countBeneficiaries } from './db/beneficiaries.js'
import { openDatabase, type Database } from './db/connect.js'
import { migrate } from './db/migrate.js'
import { seed, seededMbi } from './db/seed.js'
import { operationOutcome } from './fhir/outcome.js'
import { FHIR_JSON } from './fhir/systems.js'
import { createApp } from './http/app.js'
import { ensureDevelopmentKey } from './keys/bootstrap.js'
import { KeyStoreError } from './keys/errors.js'
import { reloadingKeyRing, type ReloadingKeyRing } from './keys/reload.js'
import { createMetrics } from './metrics/index.js'
import type { Logger } from './log/logger.js'
import { chooseKey, encryptMbiJwe, patientSearchUrl } from './client/index.js'

export interface RunningGateway {
  url: string
  server: ServerType
  db: Database
  keys: ReloadingKeyRing
  /** A ready-to-paste search for a seeded beneficiary (ciphertext only), when one exists. */
  exampleUrl: string | undefined
  close(): Promise<void>
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'))
  return String(pkg.version)
}

/** Starts the whole gateway from a validated config: database, schema, keys, HTTP. */
export async function startGateway(config: Config, logger: Logger): Promise<RunningGateway> {
  const db = await openDatabase(config)
  try {
    const applied = await migrate(db.sql)
    if (applied.length) logger.info({ migrations: applied }, 'schema migrated')
    if (db.embedded && config.seedCount > 0 && (await countBeneficiaries(db.sql)) === 0) {
      await seed(db.sql, { count: config.seedCount })
      logger.info({ count: config.seedCount }, 'seeded synthetic beneficiaries')
    }
    if (config.autoGenerateKeys) {
      const kid = await ensureDevelopmentKey(config.keysDir)
      if (kid) logger.warn({ kid, dir: config.keysDir }, 'generated a development key pair')
    }
    const metrics = createMetrics()
    const keys = await reloadingKeyRing(config.keysDir, {
      logger,
      passphrase: config.keysPassphrase,
      watch: config.keysWatch,
      onReload: (ring) => metrics.observeRing(ring),
    })
    const ring = keys.current()
    if (ring.active().length === 0) {
      keys.close()
      throw new KeyStoreError(
        'ERR_KEYS_NONE_ACTIVE',
        `${config.keysDir}: no active key; run: npm run keys -- generate`,
      )
    }
    // Listen first, so that with PORT=0 the links can name the port the system assigned; the
    // app is in place before start-up resolves, so no request is served without it.
    const late: { app?: ReturnType<typeof createApp> } = {}
    const starting = JSON.stringify(operationOutcome('transient', 'the gateway is starting'))
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve(
        {
          fetch: (request, env) =>
            late.app
              ? late.app.fetch(request, env)
              : new Response(starting, {
                  status: 503,
                  headers: { 'Content-Type': FHIR_JSON, 'Retry-After': '1' },
                }),
          hostname: config.host,
          port: config.port,
        },
        () => resolve(s),
      )
    })
    const address = server.address()
    const url = baseUrl(config, typeof address === 'object' && address ? address.port : config.port)
    late.app = createApp({
      keys,
      metrics,
      sql: db.sql,
      logger,
      publicBaseUrl: url,
      jwksMaxAgeSeconds: config.jwksMaxAgeSeconds,
      version: await packageVersion(),
    })
    let exampleUrl: string | undefined
    if ((await countBeneficiaries(db.sql)) > 0) {
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
        keys.close()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        await db.close()
      },
    }
  } catch (error) {
    await db.close()
    throw error
  }
}
