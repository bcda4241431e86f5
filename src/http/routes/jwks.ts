import { createHash } from 'node:crypto'
import { Hono } from 'hono'
import type { KeyRingSource } from '../../keys/ring/keyring.js'
import type { AppEnv } from '../env.js'

interface Published {
  body: string
  etag: string
}

/**
 * GET /.well-known/jwks.json: the active public keys, cacheable, with a strong ETag. The set is
 * computed for the time of the request: a pending key appears from its publishAt on without a
 * reload (docs/ROTATION.md).
 */
export function jwksRoutes(keys: KeyRingSource, maxAgeSeconds: number, clock = () => new Date()) {
  let last: Published | undefined
  const publish = (body: string): Published => {
    if (last?.body !== body) {
      last = { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` }
    }
    return last
  }
  return new Hono<AppEnv>().get('/jwks.json', function jwks(c) {
    const { body, etag } = publish(JSON.stringify(keys.current().publishedJwks(clock())))
    c.header('Cache-Control', `public, max-age=${maxAgeSeconds}`)
    c.header('ETag', etag)
    const match = c.req.header('If-None-Match')
    if (match && match.split(/\s*,\s*/).some((t) => t === etag || t === `W/${etag}` || t === '*')) {
      return c.body(null, 304)
    }
    c.header('Content-Type', 'application/jwk-set+json')
    return c.body(body)
  })
}
