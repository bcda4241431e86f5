import { httpInstrumentationMiddleware } from '@hono/otel'
import { Hono } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import { operationOutcome } from '../fhir/outcome.js'
import { FHIR_JSON } from '../fhir/systems.js'
import type { KeyRingSource } from '../keys/ring/keyring.js'
import type { ReplayPolicy } from '../crypto/replay.js'
import { createAudit, type Audit } from '../log/audit.js'
import type { Database, SearchDeps, SearchFeatures } from '../search/index.js'
import type { Logger } from '../log/logger.js'
import { createMetrics, type Metrics } from '../metrics/index.js'
import { accessLog } from './access-log.js'
import { auditTrail } from './audit-trail.js'
import { safeRequestId } from './request-id.js'
import { clientIdentity } from './client-identity.js'
import type { AppEnv } from './env.js'
import { HttpError } from './errors.js'
import { classify } from './outcome-errors.js'
import { healthRoutes } from './routes/health.js'
import { jwksRoutes } from './routes/jwks.js'
import { metadataRoutes } from './routes/metadata.js'
import { patientRoutes } from './routes/patient.js'
import { tracedDatabase } from '../search/traced-read.js'
import type { Tracer } from '../tracing/span.js'

export interface AppDeps {
  keys: KeyRingSource
  sql: Database
  logger: Logger
  /** Base URL the gateway is reached at, used in Bundle links. */
  publicBaseUrl: string
  clock?: () => Date
  /** Seconds the key store may be unreadable before /health/ready answers 503 (default 300). */
  keyRingStaleAfterSeconds?: number
  jwksMaxAgeSeconds?: number
  version?: string
  /** Prometheus metrics, served at /metrics; a fresh registry when absent. */
  metrics?: Metrics
  /** The audit trail; records go nowhere when absent (tests pass their own). */
  audit?: Audit
  /** mTLS: fingerprints of the client certificates served (see client-identity.ts). */
  clientAllowlist?: readonly string[]
  /** Allowlisted fingerprints marked `=bound`: those clients' tokens must be sender-bound. */
  boundClients?: readonly string[]
  /** Allowlisted fingerprints marked `=pq`: those clients' tokens must be hybrid (X-Wing). */
  pqClients?: readonly string[]
  /** Replay window and sender-binding requirement for tokens; off when absent. */
  tokenPolicy?: ReplayPolicy & { requireSenderBinding?: boolean; requirePq?: boolean }
  /** Longest a lookup may take before 503, in milliseconds (default 10 s). */
  dbQueryTimeoutMs?: number
  /** Migration paths, off when absent: legacy mbi-hash search (with its sunset), HICN search. */
  features?: SearchFeatures
  /** Write access log lines for successful health checks too (LOG_HEALTH_CHECKS). */
  logHealthChecks?: boolean
  /** OpenTelemetry: spans for each request, its token and its database reads; none when absent. */
  tracer?: Tracer
}

/** Longest request target served; longer gets 414 (node itself refuses headers over 16 KiB). */
export const MAX_URL_LENGTH = 8192

/** Paths served, with the methods each allows: any other method gets 405 with an Allow header. */
const ROUTES: Record<string, string> = {
  '/v2/fhir/Patient': 'GET, HEAD',
  '/v2/fhir/Patient/': 'GET, HEAD',
  '/v2/fhir/Patient/_search': 'POST',
  '/v2/fhir/Patient/:id': 'GET, HEAD',
  '/v2/fhir/metadata': 'GET, HEAD',
  '/.well-known/jwks.json': 'GET, HEAD',
  '/health/live': 'GET, HEAD',
  '/health/ready': 'GET, HEAD',
  '/metrics': 'GET, HEAD',
}

/** Builds the gateway. No side effects: every dependency comes in through `deps`. */
export function createApp(deps: AppDeps) {
  const { keys, sql, logger, publicBaseUrl } = deps
  const clock = deps.clock ?? (() => new Date())
  const fhirBase = `${publicBaseUrl}/v2/fhir`
  const software = { name: 'sealed-search', version: deps.version ?? '0.0.0' }
  const metrics = deps.metrics ?? createMetrics({ defaultMetrics: false })
  metrics.observeRing(keys.current())
  const audit = deps.audit ?? createAudit({ write: () => {} })
  const { tracer } = deps
  const search: SearchDeps = {
    sql: tracer ? tracedDatabase(sql, tracer) : sql,
    tracer,
    keys,
    clock,
    metrics,
    audit,
    features: deps.features ?? {},
    tokenPolicy: deps.tokenPolicy,
    dbQueryTimeoutMs: deps.dbQueryTimeoutMs,
  }

  const app = new Hono<AppEnv>()
  // The HTTP span encloses everything else; redactingProcessor takes the query out of url.full.
  if (tracer) app.use(httpInstrumentationMiddleware({ tracer, captureActiveRequests: false }))
  app.use(safeRequestId())
  app.use(accessLog(logger, metrics, { healthChecks: deps.logHealthChecks ?? false }))
  app.use(
    clientIdentity({
      ...(deps.clientAllowlist ? { allowlist: deps.clientAllowlist } : {}),
      ...(deps.boundClients ? { boundClients: deps.boundClients } : {}),
      ...(deps.pqClients ? { pqClients: deps.pqClients } : {}),
    }),
  )
  app.use(auditTrail(audit))
  app.use(secureHeaders())
  app.use(async function urlLength(c, next) {
    if (c.req.url.length > MAX_URL_LENGTH) {
      throw new HttpError(414, 'too-long', 'ERR_URL_TOO_LONG', 'the request URL is too long')
    }
    await next()
  })

  app.route('/v2/fhir', patientRoutes({ ...search, fhirBase }))
  const capability = {
    legacyHashSunset: deps.features?.legacyHash?.sunset,
    hicnSearch: deps.features?.hicnSearch,
  }
  app.route('/v2/fhir', metadataRoutes(fhirBase, software, capability))
  app.route('/.well-known', jwksRoutes(keys, deps.jwksMaxAgeSeconds ?? 300, clock))
  app.route(
    '/health',
    healthRoutes(keys, sql, {
      clock,
      ...(deps.keyRingStaleAfterSeconds !== undefined
        ? { ringStaleAfterSeconds: deps.keyRingStaleAfterSeconds }
        : {}),
    }),
  )
  app.get('/metrics', async function prometheus(c) {
    c.header('Content-Type', metrics.registry.contentType)
    return c.body(await metrics.registry.metrics())
  })

  for (const [path, allow] of Object.entries(ROUTES)) {
    app.all(path, () => {
      throw new HttpError(405, 'not-supported', 'ERR_METHOD_NOT_ALLOWED', 'method not allowed', {
        Allow: allow,
      })
    })
  }

  app.notFound(() => {
    throw new HttpError(404, 'not-found', 'ERR_NOT_FOUND', 'no such endpoint')
  })

  app.onError(function toOperationOutcome(err, c) {
    const { error, cause, unexpected } = classify(err)
    c.get('search').error = cause
    if (unexpected) {
      logger.error(
        { err: { type: (err as Error)?.name, code: (err as { code?: unknown })?.code } },
        'unexpected error',
      )
    }
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
    c.header('Content-Type', FHIR_JSON)
    c.header('Cache-Control', 'no-store')
    return c.body(
      JSON.stringify(operationOutcome(error.issueType, error.message, error.code)),
      error.status,
    )
  })

  return app
}

export type App = ReturnType<typeof createApp>
