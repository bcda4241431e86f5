/**
 * The partner library in a second runtime: its sources bundled by esbuild for the browser and run
 * in an Edge Runtime VM (@edge-runtime/vm: web globals only, no process, require or Buffer,
 * code generation off). It fetches the JWKS over real HTTP, encrypts in both formats to both
 * curves and an HPKE token to the X-Wing key, and the gateway's openToken decrypts what it made.
 */
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { serve, type ServerType } from '@hono/node-server'
import { EdgeVM } from '@edge-runtime/vm'
import { build } from 'esbuild'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openToken } from '../../../src/crypto/token.js'
import { jwksRoutes } from '../../../src/http/routes/jwks.js'
import { staticKeyRing, type KeyRing } from '../../../src/keys/ring/keyring.js'
import { threeKeyRing } from '../../support/hybrid-keys.js'

const ENTRY = fileURLToPath(new URL('../../../packages/client/src/index.ts', import.meta.url))
const MBI = '1S00E00AA00'

let ring: KeyRing
let server: ServerType
let base: string
let jwksRequests = 0
let bundle: { code: string; inputs: string[] }

beforeAll(async () => {
  ring = (await threeKeyRing()).ring
  const app = new Hono()
  app.use('/.well-known/*', async (_c, next) => {
    jwksRequests += 1
    await next()
  })
  app.route('/.well-known', jwksRoutes(staticKeyRing(ring), 300))
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  // platform 'browser': a `node:` import, or any Node built-in, fails the build.
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'sealedSearch',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  bundle = { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) }
})

afterAll(async () => {
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('the client library in an edge runtime', () => {
  it('bundles for the browser from sources that need no Node built-in', () => {
    expect(bundle.inputs.some((i) => i.startsWith('node:') || i.includes('(disabled)'))).toBe(false)
    expect(bundle.inputs).toContain('packages/client/src/hpke.ts')
    expect(bundle.code).not.toMatch(/\brequire\(["']/)
  })

  it('fetches and caches the JWKS, encrypts JWE and HPKE tokens the gateway opens', async () => {
    const vm = new EdgeVM()
    vm.evaluate(bundle.code)
    const script = `(async () => {
      const globals = [typeof process, typeof require, typeof Buffer, typeof module].join()
      const cache = sealedSearch.createJwksCache(${JSON.stringify(`${base}/.well-known/jwks.json`)})
      const jwks = await cache.get()
      await cache.get()
      const made = []
      for (const format of ['jwe', 'hpke']) {
        for (const crv of ['P-256', 'X25519']) {
          const key = sealedSearch.chooseKey(jwks, crv, { format })
          const token = await sealedSearch.encryptMbi(${JSON.stringify(MBI)}, key, { format, ttlSeconds: 60 })
          made.push({ format, crv, kid: key.kid, token, url: sealedSearch.patientSearchUrl('https://gw.test', token) })
        }
      }
      const pq = sealedSearch.chooseKey(jwks, undefined, { format: 'hpke', pq: true })
      const token = await sealedSearch.encryptMbi(${JSON.stringify(MBI)}, pq, { format: 'hpke' })
      made.push({ format: 'hpke', crv: 'X-Wing', kid: pq.kid, token, url: sealedSearch.patientSearchUrl('https://gw.test', token) })
      return JSON.stringify({ globals, runtime: typeof EdgeRuntime, made })
    })()`
    const result = JSON.parse(await vm.evaluate<Promise<string>>(script)) as {
      globals: string
      runtime: string
      made: { format: string; crv: string; kid: string; token: string; url: string }[]
    }
    expect(result.runtime).toBe('string')
    expect(result.globals).toBe('undefined,undefined,undefined,undefined')
    // The second get() was answered from the cache (max-age=300).
    expect(jwksRequests).toBe(1)
    expect(result.made).toHaveLength(5)
    for (const { format, crv, kid, token, url } of result.made) {
      const opened = await openToken(token, ring, new Date())
      expect(opened, `${format} ${crv}`).toMatchObject({ mbi: MBI, format, kid })
      expect(url).toContain(`mbi-encrypted%7C${token}`)
      if (crv === 'X-Wing') expect(token).toHaveLength(1542)
      else if (format === 'hpke') expect(token.length).toBeLessThan(crv === 'X25519' ? 160 : 200)
    }
  })
})
