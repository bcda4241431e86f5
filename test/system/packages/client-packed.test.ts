/**
 * The partner library as partners get it: `npm pack` of packages/client, installed from the
 * tarball (offline, from the npm cache) into a scratch project, and used against a real gateway
 * process from plain JavaScript in Node (`node search.mjs`: no TypeScript, no bundler) and from a
 * browser bundle (esbuild) run in headless Chromium (Debian `chromium`).
 *
 * Chromium missing fails the browser test when CI=true, and skips it with the reason otherwise.
 */
import { execFile, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededBeneId, seededHicn, seededMbi } from '../../../src/db/seed.js'
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js'
import { tempDir } from '../../support/keys.js'
import { start } from '../../support/process.js'

const run = promisify(execFile)
const PACKAGE = fileURLToPath(new URL('../../../packages/client/', import.meta.url))
const CHROMIUM = '/usr/bin/chromium'
const CI = process.env.CI === 'true'
const chromiumMissing = spawnSync(CHROMIUM, ['--version']).error?.message

let gateway: GatewayProcess
let scratch: string
let app: string
let tarball: string

beforeAll(async () => {
  // An X-Wing key too, for the hybrid post-quantum token (docs/PARTNERS.md).
  gateway = await startGatewayProcess({ HICN_SEARCH_ENABLED: 'true' }, { xwing: true })
  scratch = await tempDir('sealed-client-pack-')
  // prepack builds dist/ with tsc.
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', scratch], {
    cwd: PACKAGE,
  })
  tarball = join(scratch, packed.stdout.trim().split('\n').pop()!)
  app = join(scratch, 'app')
  await mkdir(app)
  await writeScratchProject(app, tarball)
  // Offline, from the npm cache that `npm ci` filled: the lockfile pins what the cache holds.
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app })
  await copyFile(join(PACKAGE, 'examples/search.mjs'), join(app, 'search.mjs'))
}, 240_000)

afterAll(async () => {
  await gateway?.stop()
  if (scratch) await rm(scratch, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
})

/**
 * A partner's project that depends on the tarball, with a lockfile: the library at the tarball's
 * integrity, and its dependencies at the versions this repository's lockfile pins (so they are
 * in the npm cache, and the install needs no network).
 */
async function writeScratchProject(dir: string, tgz: string): Promise<void> {
  const spec = `file:../${basename(tgz)}`
  const integrity = `sha512-${createHash('sha512')
    .update(await readFile(tgz))
    .digest('base64')}`
  const manifest = JSON.parse(await readFile(join(PACKAGE, 'package.json'), 'utf8')) as {
    version: string
    dependencies: Record<string, string>
  }
  const root = JSON.parse(await readFile(join(PACKAGE, '../../package-lock.json'), 'utf8')) as {
    packages: Record<string, { dependencies?: Record<string, string> }>
  }
  const packages: Record<string, unknown> = {
    '': { name: 'partner-app', dependencies: { '@sealed-search/client': spec } },
    'node_modules/@sealed-search/client': {
      version: manifest.version,
      resolved: spec,
      integrity,
      dependencies: manifest.dependencies,
    },
  }
  const pending = Object.keys(manifest.dependencies)
  for (let name = pending.shift(); name; name = pending.shift()) {
    const entry = root.packages[`node_modules/${name}`]
    if (!entry) throw new Error(`${name} is not in package-lock.json`)
    packages[`node_modules/${name}`] = entry
    pending.push(...Object.keys(entry.dependencies ?? {}))
  }
  const project = {
    name: 'partner-app',
    type: 'module',
    dependencies: { '@sealed-search/client': spec },
  }
  await writeFile(join(dir, 'package.json'), JSON.stringify(project, null, 2))
  const lock = { name: 'partner-app', lockfileVersion: 3, requires: true, packages }
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2))
}

/** Runs `node search.mjs ...` in the scratch project, the identifier on standard input. */
function search(identifier: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['search.mjs', gateway.url, ...args],
      { cwd: app },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}`.trim() }),
    )
    child.stdin!.end(identifier)
  })
}

describe('the packed @sealed-search/client', () => {
  it('holds the built ESM, its type declarations and README, and states Node >= 20.19', async () => {
    const listing = await run('tar', ['-tzf', tarball])
    const files = listing.stdout.trim().split('\n').sort()
    expect(files).toContain('package/dist/index.js')
    expect(files).toContain('package/dist/index.d.ts')
    expect(files).toContain('package/README.md')
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
    const manifest = JSON.parse(
      await readFile(join(app, 'node_modules/@sealed-search/client/package.json'), 'utf8'),
    ) as { private?: boolean; engines: { node: string }; dependencies: Record<string, string> }
    expect(manifest.private).toBeUndefined()
    expect(manifest.engines.node).toBe('>=20.19')
    expect(Object.keys(manifest.dependencies).sort()).toEqual([
      '@noble/ciphers',
      '@noble/curves',
      '@noble/hashes',
      '@noble/post-quantum',
      'jose',
    ])
  })

  it('installs nothing of the gateway: only the library and what encryption needs', async () => {
    const top = await readdir(join(app, 'node_modules'))
    const scoped = await Promise.all(
      top
        .filter((d) => d.startsWith('@'))
        .map(async (s) => (await readdir(join(app, 'node_modules', s))).map((p) => `${s}/${p}`)),
    )
    const installed = [...top.filter((d) => !d.startsWith('@') && d !== '.package-lock.json')]
      .concat(scoped.flat())
      .sort()
    expect(installed).toEqual([
      '@noble/ciphers',
      '@noble/curves',
      '@noble/hashes',
      '@noble/post-quantum',
      '@sealed-search/client',
      'jose',
    ])
  })

  it.each([
    ['jwe', 'P-256', 0],
    ['jwe', 'X25519', 17],
    ['hpke', 'P-256', 31],
    ['hpke', 'X25519', 59],
    ['hpke', 'X-Wing', 42],
  ])('finds the Patient from plain JavaScript in Node: %s to %s', async (format, crv, i) => {
    const result = await search(seededMbi(i), [format, crv])
    expect(result).toEqual({ code: 0, out: `Patient/${seededBeneId(i)}` })
  })

  it.each(['jwe', 'hpke'])('makes HICN tokens for the hicn-encrypted search (%s)', async (f) => {
    const result = await search(seededHicn(3)!, [f, 'X25519', 'hicn'])
    expect(result).toEqual({ code: 0, out: `Patient/${seededBeneId(3)}` })
  })

  it('refuses a malformed MBI before encrypting, and the gateway refuses a tampered token', async () => {
    const typo = await search('1S00E00AA0O', ['hpke', 'X25519'])
    expect(typo.code).toBe(1)
    expect(typo.out).toContain('not a well-formed MBI')
    expect(typo.out).not.toContain('1S00E00AA0O')

    const script = `import { chooseKey, encryptMbi, fetchJwks, patientSearchUrl } from '@sealed-search/client'
      const key = chooseKey(await fetchJwks(process.argv[1] + '/.well-known/jwks.json'), 'P-256')
      const token = await encryptMbi(${JSON.stringify(seededMbi(5))}, key)
      const parts = token.split('.')
      parts[3] = (parts[3][0] === 'A' ? 'B' : 'A') + parts[3].slice(1)
      const res = await fetch(patientSearchUrl(process.argv[1], parts.join('.')))
      const body = await res.json()
      console.log(res.status, body.issue[0].details.coding[0].code)`
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', script, gateway.url],
      { cwd: app },
    )
    expect(stdout.trim()).toBe('400 ERR_TOKEN_DECRYPTION_FAILED')
  })
})

describe('the packed library in a browser', () => {
  let page: Server | undefined
  afterAll(async () => {
    if (page) await new Promise<void>((resolve) => page!.close(() => resolve()))
  })

  it.skipIf(Boolean(chromiumMissing) && !CI)(
    `bundles for the browser and finds the Patient from headless Chromium${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`,
    async () => {
      await copyFile(join(PACKAGE, 'examples/browser.mjs'), join(app, 'browser.mjs'))
      const searches = [
        { mbi: seededMbi(8), format: 'hpke', crv: 'X25519' },
        { mbi: seededMbi(9), format: 'hpke', crv: 'P-256' },
        { mbi: seededMbi(10), format: 'jwe', crv: 'X25519' },
        { mbi: seededMbi(11), format: 'jwe', crv: 'P-256' },
      ]
      await writeFile(
        join(app, 'page.mjs'),
        `import { searchByMbi } from './browser.mjs'
        const results = []
        for (const s of ${JSON.stringify(searches)}) {
          const bundle = await searchByMbi(location.origin, s.mbi, s)
          results.push({ ...s, mbi: undefined, ids: (bundle.entry ?? []).map((e) => e.resource.id) })
        }
        const env = [typeof process, typeof Buffer, /Chrome/.test(navigator.userAgent)].join()
        await fetch('/result', { method: 'POST', body: JSON.stringify({ env, results }) })`,
      )
      // platform 'browser': a `node:` import, or any Node built-in, fails the build.
      const bundled = await build({
        entryPoints: [join(app, 'page.mjs')],
        absWorkingDir: app,
        bundle: true,
        platform: 'browser',
        format: 'esm',
        target: 'es2022',
        write: false,
        metafile: true,
        logLevel: 'silent',
      })
      const inputs = Object.keys(bundled.metafile.inputs)
      expect(inputs.some((i) => i.includes('node_modules/@sealed-search/client/dist/'))).toBe(true)
      expect(inputs.some((i) => i.startsWith('node:') || i.includes('(disabled)'))).toBe(false)

      // The page and its script come from one origin, which also proxies the gateway's
      // routes: the gateway itself sends no CORS headers.
      let resolveResult!: (body: string) => void
      const result = new Promise<string>((resolve) => (resolveResult = resolve))
      page = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          void (async () => {
            if (req.url === '/') {
              res.setHeader('content-type', 'text/html')
              res.end('<!doctype html><script type="module" src="/page.js"></script>')
            } else if (req.url === '/page.js') {
              res.setHeader('content-type', 'text/javascript')
              res.end(bundled.outputFiles[0]!.text)
            } else if (req.url === '/result') {
              resolveResult(Buffer.concat(chunks).toString('utf8'))
              res.end()
            } else {
              const upstream = await fetch(`${gateway.url}${req.url}`)
              res.statusCode = upstream.status
              res.setHeader('content-type', upstream.headers.get('content-type') ?? 'text/plain')
              res.end(Buffer.from(await upstream.arrayBuffer()))
            }
          })()
        })
      })
      await new Promise<void>((resolve) => page!.listen(0, '127.0.0.1', resolve))
      const origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`
      const profile = join(scratch, 'chromium-profile')
      // Chromium leaves an org.chromium.Chromium.* folder (its singleton socket) in its temporary
      // directory: give it one of its own, removed after this file. A short path: the socket's
      // must fit in 107 bytes.
      const browserTmp = await tempDir('c-')
      const browser = start(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--no-first-run',
          `--user-data-dir=${profile}`,
          `${origin}/`,
        ],
        { ...process.env, HOME: scratch, TMPDIR: browserTmp },
      )
      try {
        const timeout = new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no result; chromium:\n${browser.output()}`)), 60_000),
        )
        const body = JSON.parse(await Promise.race([result, timeout])) as {
          env: string
          results: { format: string; crv: string; ids: string[] }[]
        }
        // A real browser: no Node globals, and Chromium's user agent.
        expect(body.env).toBe('undefined,undefined,true')
        expect(body.results.map((r) => r.ids)).toEqual([8, 9, 10, 11].map((i) => [seededBeneId(i)]))
      } finally {
        await browser.stop()
      }
    },
    120_000,
  )
})
