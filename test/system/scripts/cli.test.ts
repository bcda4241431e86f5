/**
 * Every command's command line: --help and -h print its usage and exit 0; a usage error is one
 * line on stderr and exit 2; a port in use is one line and exit 1. The production commands run
 * from the build (as `npm run <name>` does), the development ones through tsx.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { tempDir } from '../../support/temp.js'
import { childEnv } from '../../support/process.js'

// Each test starts processes (and PGlite): generous limits for a loaded machine; no time is asserted.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 })

const exec = promisify(execFile)
const TSX = 'node_modules/tsx/dist/cli.mjs'

/** npm script name (or the script, for one run through npx tsx) -> how it runs. */
const COMMANDS: Record<string, string[]> = {
  start: ['dist/index.js'],
  dev: [TSX, 'src/index.ts'],
  build: ['scripts/build.mjs'],
  keys: ['dist/keys.js'],
  encrypt: ['dist/encrypt.js'],
  seed: ['dist/seed.js'],
  'legacy-hash': ['dist/legacy-hash.js'],
  fuzz: [TSX, 'scripts/fuzz.ts'],
  bench: [TSX, 'scripts/bench.ts'],
  'bench:decrypt': [TSX, 'scripts/bench-decrypt.ts'],
  'bench:tracing': [TSX, 'scripts/bench-tracing.ts'],
  'logs:scan': ['dist/logs-scan.js'],
  'bench:scan': [TSX, 'scripts/bench-scan.ts'],
  'docs:config': [TSX, 'scripts/docs-config.ts'],
  'scripts/bfd-paths.ts': [TSX, 'scripts/bfd-paths.ts'],
}

/** The help command a usage error points at: the gateway's own (npm start or npm run dev). */
function helpCommand(name: string): string {
  if (name === 'start') return 'npm start -- --help'
  if (name.startsWith('scripts/')) return `npx tsx ${name} --help`
  return `npm run ${name} -- --help`
}

async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, argv, { env: childEnv(env) })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

describe.each(Object.entries(COMMANDS))('%s', (name, argv) => {
  it.each(['--help', '-h'])('answers %s with its usage on stdout and exit 0', async (flag) => {
    const r = await run([...argv, flag])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^usage: (npm start|npm run \S+|npx tsx \S+)/)
    // Each command's usage names the command itself (npm run dev is not npm start).
    expect(r.stdout.split('\n')[0]).toContain(name === 'start' ? 'npm start' : name)
    expect(r.stdout).toMatch(/-h, --help/)
    expect(r.stderr).toBe('')
  })

  it('answers an unknown option with one line and exit 2', async () => {
    const r = await run([...argv, ...(name === 'keys' ? ['list'] : []), '--no-such-option'])
    expect(r.code).toBe(2)
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/--help\)$/), ''])
    expect(r.stderr).toContain(helpCommand(name))
    expect(r.stdout).toBe('')
  })
})

describe('npm run keys', () => {
  it('with no command is a usage error naming the commands', async () => {
    const r = await run(COMMANDS.keys!)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(
      /^error: give a command: generate, list, rotate, .*\(usage: npm run keys -- --help\)\n$/,
    )
  })

  it('explains one command with -h after it', async () => {
    const r = await run([...COMMANDS.keys!, 'rotate', '-h'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^npm run keys -- rotate /)
  })

  it('through npm itself: no command exits 2, --help exits 0', async () => {
    const npm = async (args: string[]) => {
      try {
        await exec('npm', ['run', '--silent', 'keys', ...args], { env: childEnv({}) })
        return 0
      } catch (e) {
        return (e as { code: number }).code
      }
    }
    expect(await npm([])).toBe(2)
    expect(await npm(['--', '--help'])).toBe(0)
  })
})

describe('the gateway on a port in use', () => {
  let holder: Server
  let port: number
  beforeAll(async () => {
    holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    port = (holder.address() as { port: number }).port
  })
  afterAll(async () => {
    await new Promise((resolve) => holder.close(resolve))
  })

  it('says so in one line and exits 1, without a stack trace, before touching the database', async () => {
    const dir = await tempDir()
    const r = await run(COMMANDS.start!, {
      PORT: String(port),
      DATA_DIR: join(dir, 'data'),
      KEYS_DIR: join(dir, 'keys'),
      SEED_COUNT: '0',
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `sealed-search: port ${port} is in use (127.0.0.1:${port}): ` +
        'stop the process that holds it, or set PORT\n',
    )
    // Checked first: no embedded database was created, no development key generated.
    expect(existsSync(join(dir, 'data'))).toBe(false)
    expect(existsSync(join(dir, 'keys'))).toBe(false)
  })
})
