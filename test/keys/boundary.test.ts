/**
 * The key-agreement boundary: outside src/keys/, no module can reach private key material. The
 * lint rule proves it for the source (checked here on samples that must fail, so the rule cannot
 * silently stop firing), and a loaded ring key is checked at run time to expose only `agree`.
 */
import { KeyObject } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { ESLint } from 'eslint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest } from '../../src/keys/stores/manifest.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { twoKeyRing } from '../support/keys.js'

const eslint = new ESLint()

/** The boundary rules' messages for `code` as if it were the file `path`. */
async function boundaryErrors(code: string, path: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path })
  return result!.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message)
}

const REACHING_FOR_KEYS = {
  'a private-key API of node:crypto': `import { createPrivateKey } from 'node:crypto'\nexport const f = createPrivateKey`,
  'diffieHellman from crypto': `import { diffieHellman } from 'crypto'\nexport const f = diffieHellman`,
  createECDH: `import { createECDH } from 'node:crypto'\nexport const f = createECDH`,
  'node:crypto as a namespace': `import * as c from 'node:crypto'\nexport const f = c`,
  'node:crypto by dynamic import': `export const f = () => import('node:crypto')`,
  'the key file reader': `import { readPrivateKeyFile } from '../keys/stores/dir-files.js'\nexport const f = readPrivateKeyFile`,
  'the key index': `import { openPrivateJwk } from '../keys/index.js'\nexport const f = openPrivateJwk`,
  'the in-process backend': `import { inProcessFromJwk } from '../keys/ring/in-process.js'\nexport const f = inProcessFromJwk`,
  'a privateKey member': `export const f = (k: { privateKey: unknown }) => k.privateKey`,
}

describe('the lint rule for the key boundary', () => {
  it.each(Object.entries(REACHING_FOR_KEYS))(
    'refuses %s outside src/keys/',
    async (_name, code) => {
      expect(await boundaryErrors(code, 'src/crypto/sample.ts')).not.toEqual([])
      expect(await boundaryErrors(code, 'src/http/routes/sample.ts')).not.toEqual([])
    },
  )

  it('allows the same code inside src/keys/', async () => {
    for (const code of Object.values(REACHING_FOR_KEYS)) {
      expect(await boundaryErrors(code, 'src/keys/sample.ts')).toEqual([])
    }
  })

  it('allows what the gateway needs outside src/keys/: public keys, hashes, agree()', async () => {
    const code = [
      `import { createHash, createPublicKey } from 'node:crypto'`,
      `import { withSharedSecret } from '../keys/ring/agreement.js'`,
      `import type { RingKey } from '../keys/ring/ring-key.js'`,
      `export const f = [createHash, createPublicKey, withSharedSecret]`,
      `export const g = (k: RingKey) => k.agree(new Uint8Array(32))`,
    ].join('\n')
    expect(await boundaryErrors(code, 'src/crypto/sample.ts')).toEqual([])
  })
  // The source tree itself is checked by `npm run lint` (CI), with these same rules.
})

describe('a loaded ring key', () => {
  let dir: string
  let ring: KeyRing
  let secrets: string[]

  beforeAll(async () => {
    ;({ dir, ring } = await twoKeyRing())
    secrets = []
    for (const entry of (await readManifest(dir)).keys) {
      secrets.push(JSON.parse(await readFile(join(dir, entry.file), 'utf8')).d)
    }
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  /** Every value reachable from `root` through own properties (not through closures). */
  function reachable(root: unknown): unknown[] {
    const seen = new Set<unknown>()
    const walk = (v: unknown) => {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v)) return
      seen.add(v)
      for (const key of Reflect.ownKeys(v as object)) {
        const d = Object.getOwnPropertyDescriptor(v as object, key)
        if (d && 'value' in d) walk(d.value)
      }
    }
    walk(root)
    return [...seen]
  }

  it('exposes agree and public members only, no KeyObject', () => {
    for (const key of ring.keys) {
      expect(Object.keys(key).sort()).toEqual(
        [
          'agree',
          'created',
          'crv',
          'hpkeKeyId',
          'kid',
          'notAfter',
          'publicJwk',
          'state',
          'store',
        ].sort(),
      )
      expect(reachable(key).some((v) => v instanceof KeyObject)).toBe(false)
      expect(Object.isFrozen(key)).toBe(true)
    }
    expect(reachable(ring).some((v) => v instanceof KeyObject)).toBe(false)
  })

  it('never shows the private scalar when serialised or inspected', () => {
    expect(secrets).toHaveLength(2)
    const shown = [
      JSON.stringify(ring.keys),
      JSON.stringify(ring.jwks()),
      inspect(ring, { depth: 10, showHidden: true }),
      ...ring.keys.map((k) => inspect(k, { depth: 10, showHidden: true })),
    ].join('\n')
    for (const d of secrets) expect(shown).not.toContain(d)
  })
})
