import type { MiddlewareHandler } from 'hono'
import type { Logger } from '../log/logger.js'
import type { AppEnv } from './env.js'

function clientAddress(env: unknown): string | undefined {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)
    ?.incoming
  return incoming?.socket?.remoteAddress
}

/**
 * One JSON line per request: method, path, the query string as received (it carries only
 * ciphertext; the logger masks anything MBI-shaped), status, duration, request id, client.
 */
export function accessLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async function accessLogMiddleware(c, next) {
    const start = performance.now()
    c.set('search', {})
    await next()
    const url = new URL(c.req.url)
    logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        path: url.pathname,
        query: url.search,
        status: c.res.status,
        durationMs: Math.round((performance.now() - start) * 100) / 100,
        client: clientAddress(c.env),
        search: c.get('search'),
      },
      'request',
    )
  }
}
