/**
 * The build and `npm start` as an operator meets them: dist/ needs only the runtime
 * dependencies; a fresh clone builds before it starts; SIGTERM to the npm process stops the
 * gateway with exit 0 and leaves no process and no bound port behind.
 */
import { execFileSync } from 'node:child_process'
import { cp, mkdir, readdir, readFile, stat, symlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { builtinModules } from 'node:module'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { tempDir } from '../../support/temp.js'
import { childEnv, start, type Running } from '../../support/process.js'

// Each test starts processes (and PGlite): generous limits for a loaded machine; no time is asserted.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 })

const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

/** The packages a built file imports (bare specifiers, not node's own modules). */
function packagesImported(code: string): Set<string> {
  const names = new Set<string>()
  const specifiers = [
    ...code.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm),
    ...code.matchAll(/^import\s*["']([^"']+)["']/gm),
    ...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]!)
  for (const spec of specifiers) {
    if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue
    names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
  }
  return names
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

describe('npm run build', () => {
  it('compiles the gateway and the production commands to dist/, importing only dependencies', async () => {
    execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'])
    const files = (await readdir('dist')).filter((f) => f.endsWith('.js'))
    for (const entry of ['index.js', 'keys.js', 'seed.js', 'encrypt.js', 'legacy-hash.js']) {
      expect(files).toContain(entry)
    }
    expect((await readdir('dist/migrations')).some((f) => f.endsWith('.sql'))).toBe(true)
    const imported = new Set<string>()
    for (const f of files) {
      for (const name of packagesImported(await readFile(join('dist', f), 'utf8'))) {
        imported.add(name)
      }
    }
    expect(imported.size).toBeGreaterThan(5) // the check reads real imports
    expect([...imported].filter((name) => !(name in pkg.dependencies))).toEqual([])
    expect(pkg.dependencies).not.toHaveProperty('tsx')
    expect(pkg.devDependencies).toHaveProperty('tsx')
  })
})

describe('npm start on a fresh clone', () => {
  let clone: string
  let running: Running | undefined

  beforeAll(async () => {
    // The files git would check out (tracked and new, not ignored): no dist/, no .data/, no keys.
    clone = join(await tempDir(), 'clone')
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
      encoding: 'utf8',
    })
      .split('\0')
      .filter(Boolean)
    for (const file of files) {
      const exists = await stat(file).then(
        (s) => s.isFile(),
        () => false,
      )
      if (!exists) continue
      await mkdir(join(clone, dirname(file)), { recursive: true })
      await cp(file, join(clone, file))
    }
    await symlink(join(process.cwd(), 'node_modules'), join(clone, 'node_modules'), 'dir')
  })

  afterAll(async () => {
    await running?.stop()
  })

  it('builds dist/ first, serves, and exits 0 when the npm process gets SIGTERM, leaving nothing running', async () => {
    const env = childEnv({
      PORT: '0',
      KEYS_DIR: join(clone, 'keys'),
      DATA_DIR: join(clone, '.data', 'pglite'),
      SEED_COUNT: '5',
    })
    running = start('npm', ['start', '--silent', '--prefix', clone], env)
    const [, url, port] = await running.waitFor(
      /listening on (http:\/\/127\.0\.0\.1:(\d+))/,
      120_000,
    )
    expect(running.output()).toMatch(/built dist\/ in/)
    expect((await stat(join(clone, 'dist', 'index.js'))).isFile()).toBe(true)
    expect((await fetch(`${url}/v2/fhir/metadata`)).status).toBe(200)
    const gatewayPid = Number((await running.waitFor(/"pid":(\d+),/))[1])

    process.kill(running.child.pid!, 'SIGTERM') // the npm process only, not its group
    expect(await running.stop({ group: false })).toBe(0)
    running = undefined
    expect(alive(gatewayPid)).toBe(false)
    expect(await portIsFree(Number(port))).toBe(true)
  })
})
