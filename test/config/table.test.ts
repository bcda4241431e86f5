import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  ConfigError,
  legacyHashPepper,
  loadConfig,
  readVariable,
  SECTIONS,
  VARIABLES,
  type Variable,
  type VariableName,
} from '../../src/config/index.js'
import { tempDir } from '../support/keys.js'

const ROWS = Object.entries(VARIABLES) as [VariableName, Variable][]
const SECRETS = ROWS.filter(([, row]) => row.secret).map(([name]) => name)

/** An environment that records every name looked up in it. */
function recording(values: Record<string, string> = {}) {
  const read = new Set<string>()
  const env = new Proxy(values, {
    get(target, name) {
      if (typeof name === 'string') read.add(name)
      return target[name as string]
    },
  })
  return { env, read }
}

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

describe('the variable table', () => {
  it('gives every variable a section, a type, a description and a known parser', () => {
    for (const [name, row] of ROWS) {
      expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/)
      expect(SECTIONS).toContain(row.section)
      expect(row.type.length, name).toBeGreaterThan(0)
      expect(row.description.length, name).toBeGreaterThan(0)
      expect(typeof row.parse, name).toBe('function')
    }
  })

  it('is everything the configuration reads: loadConfig reads each gateway variable, and no other', () => {
    const { env, read } = recording()
    loadConfig(env)
    legacyHashPepper(env)
    const known = new Set<string>(ROWS.map(([name]) => name))
    for (const name of SECRETS) known.add(`${name}_FILE`)
    expect([...read].filter((name) => !known.has(name))).toEqual([])
    expect(ROWS.map(([name]) => name).filter((name) => !read.has(name))).toEqual([])
    for (const name of SECRETS) expect(read).toContain(`${name}_FILE`)
  })

  it('gives each unset variable its table fallback', () => {
    for (const [name, row] of ROWS) expect(readVariable({}, name), name).toEqual(row.fallback)
  })

  it('treats an empty variable as unset', () => {
    for (const [name, row] of ROWS) {
      expect(readVariable({ [name]: '' }, name), name).toEqual(row.fallback)
    }
  })

  it('marks the passphrase, the audit HMAC key, the pepper, the connection strings and the token PIN as secrets', () => {
    expect(SECRETS.sort()).toEqual([
      'AUDIT_HMAC_KEY',
      'DATABASE_READ_URL',
      'DATABASE_URL',
      'KEYS_PASSPHRASE',
      'LEGACY_HASH_PEPPER',
      'PKCS11_PIN',
    ])
  })
})

describe('secrets in errors', () => {
  const MARK = 'zz-secret-Mark-9f'

  function refusal(env: Record<string, string>, name: VariableName): ConfigError {
    try {
      readVariable(env, name)
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      return error as ConfigError
    }
    throw new Error(`${name} accepted ${JSON.stringify(Object.keys(env))}`)
  }

  function leaks(error: ConfigError): boolean {
    const seen = [error.message, String(error.cause ?? ''), JSON.stringify(error), error.stack]
    return seen.some((text) => text?.includes(MARK))
  }

  it.each(SECRETS)(
    'never quotes %s, given directly or from its file, however it is refused',
    async (name) => {
      const dir = await tempDir()
      dirs.push(dir)
      const file = join(dir, 'secret')
      await writeFile(file, `${MARK}\n`, { mode: 0o600 })
      const both = refusal({ [name]: MARK, [`${name}_FILE`]: file }, name)
      expect(both.variable).toBe(`${name}_FILE`)
      expect(leaks(both)).toBe(false)
      if (VARIABLES[name].parse === VARIABLES.KEYS_PASSPHRASE.parse) {
        // Any text is a passphrase: nothing to refuse, so it is read back as it is.
        expect(readVariable({ [`${name}_FILE`]: file }, name)).toBe(MARK)
        return
      }
      const direct = refusal({ [name]: MARK }, name)
      expect(direct.variable).toBe(name)
      expect(leaks(direct)).toBe(false)
      const fromFile = refusal({ [`${name}_FILE`]: file }, name)
      expect(fromFile.variable).toBe(`${name}_FILE`)
      expect(leaks(fromFile)).toBe(false)
    },
  )
})

describe('the environment', () => {
  async function files(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true })
    return entries
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => join(e.parentPath, e.name))
  }

  it('is read in one module of src/config, and nowhere else in src/ or scripts/', async () => {
    const root = join(import.meta.dirname, '..', '..')
    const readers: string[] = []
    for (const file of [
      ...(await files(join(root, 'src'))),
      ...(await files(join(root, 'scripts'))),
    ]) {
      if ((await readFile(file, 'utf8')).includes('process.env')) {
        readers.push(relative(root, file))
      }
    }
    expect(readers).toEqual([join('src', 'config', 'environment.ts')])
  })
})
