import type { MiddlewareHandler } from 'hono'
import type { Logger } from '../log/logger.js'
import { decodeForLog } from '../log/mask.js'
import type { Metrics } from '../metrics/index.js'
import type { AppEnv } from './env.js'

/** The load balancer's probes: counted, but logged only when they fail (or when asked). */
const HEALTH_ROUTES = new Set(['/health/live', '/health/ready'])

export interface AccessLogOptions {
  /** Log health checks that answered under 400 too (LOG_HEALTH_CHECKS). */
  healthChecks?: boolean
}

/**
 * One JSON line per request: method, path and query string percent-decoded (they carry only
 * ciphertext; the logger masks anything MBI-shaped), status, duration, request id, client.
 * A health check that succeeded is not logged unless `healthChecks` is set.
 */
export function accessLog(
  logger: Logger,
  metrics: Metrics,
  { healthChecks = false }: AccessLogOptions = {},
): MiddlewareHandler<AppEnv> {
  return async function accessLogMiddleware(c, next) {
    const start = performance.now()
    c.set('search', {})
    await next()
    const seconds = (performance.now() - start) / 1000
    const search = c.get('search')
    // The matched route pattern, never the raw path: a client cannot create label values.
    const route =
      c.res.status === 404 && search.error === 'ERR_NOT_FOUND' ? 'unmatched' : c.req.routePath
    metrics.requests.inc({
      route,
      method: c.req.method,
      status: String(c.res.status),
      outcome: search.error ?? search.outcome ?? 'ok',
    })
    metrics.duration.observe({ route }, seconds)
    if (!healthChecks && c.res.status < 400 && HEALTH_ROUTES.has(route)) return
    // The line is built only when it is written: parsing and decoding the URL for a logger set
    // to `warn` or `silent` was a few percent of a search's CPU time.
    if (!logger.isLevelEnabled('info')) return
    const url = new URL(c.req.url)
    logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        // Decoded, so that the mask sees an identifier in any spelling (%31S00…, +, %20).
        path: decodeForLog(url.pathname),
        query: decodeForLog(url.search, { query: true }),
        status: c.res.status,
        durationMs: Math.round(seconds * 100_000) / 100,
        client: c.get('client'),
        // Only what the access log needs: bene_ids and fingerprints go to the audit trail.
        search: {
          format: search.format,
          kid: search.kid,
          results: search.results,
          error: search.error,
        },
      },
      'request',
    )
  }
}
