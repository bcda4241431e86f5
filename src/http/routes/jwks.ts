import { createHash } from 'node:crypto'
import { Hono } from 'hono'
import type { KeyRing, KeyRingSource } from '../../keys/keyring.js'
import type { AppEnv } from '../env.js'

interface Published {
  body: string
  etag: string
}

/** GET /.well-known/jwks.json: the active public keys, cacheable, with a strong ETag. */
export function jwksRoutes(keys: KeyRingSource, maxAgeSeconds: number) {
  const cache = new WeakMap<KeyRing, Published>()
  const publish = (ring: KeyRing): Published => {
    let p = cache.get(ring)
    if (!p) {
      const body = JSON.stringify(ring.jwks())
      p = { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` }
      cache.set(ring, p)
    }
    return p
  }
  return new Hono<AppEnv>().get('/jwks.json', function jwks(c) {
    const { body, etag } = publish(keys.current())
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
