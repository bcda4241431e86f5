import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { requestId } from 'hono/request-id'
import { holdsIdentifier } from '../log/mask.js'
import type { AppEnv } from './env.js'

/**
 * Hono's request id (the client's `X-Request-Id` when it is a plain token, else a UUID), except
 * that an id shaped like an MBI or a HICN, in any spelling, is replaced by a fresh UUID: the id
 * goes to the access log, the audit trail and the response, and a client that puts a
 * beneficiary's identifier there must not have it recorded.
 */
export function safeRequestId(): MiddlewareHandler<AppEnv> {
  const hono = requestId({ limitLength: 128 })
  return async function safeRequestIdMiddleware(c, next) {
    return hono(c, async () => {
      if (holdsIdentifier(c.get('requestId'))) {
        const fresh = randomUUID()
        c.set('requestId', fresh)
        c.header('X-Request-Id', fresh)
      }
      await next()
    })
  }
}
