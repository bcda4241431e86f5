import type { MiddlewareHandler } from 'hono'
import type { Audit } from '../log/audit.js'
import type { AppEnv } from './env.js'

/** After every request a search route handled, writes one audit record (see src/log/audit.ts). */
export function auditTrail(audit: Audit): MiddlewareHandler<AppEnv> {
  return async function auditTrailMiddleware(c, next) {
    await next()
    const search = c.get('search')
    if (!search.audited) return
    audit.record({
      requestId: c.get('requestId'),
      client: c.get('client'),
      format: search.format,
      kid: search.kid,
      outcome: search.error ?? search.outcome ?? String(c.res.status),
      results: search.beneIds?.length ?? 0,
      beneIds: search.beneIds ?? [],
      mbiFingerprint: search.fingerprint,
    })
  }
}
