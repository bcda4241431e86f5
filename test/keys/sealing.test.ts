/**
 * Sealed keys: every generated key honours the passphrase (the development key too), a key
 * command never mixes sealed and clear keys in one directory, PBES2 iteration counts are bounded
 * on write and on read, doctor reports a weak seal, and `npm run encrypt` needs public keys only.
 */
import { execFile } from 'node:child_process'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CompactEncrypt } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { ensureDevelopmentKeys } from '../../src/keys/custody/bootstrap.js'
import { doctor } from '../../src/keys/custody/doctor.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { rotate } from '../../src/keys/custody/lifecycle.js'
import { MANIFEST_FILE, readManifest } from '../../src/keys/stores/manifest.js'
import {
  PBES2_ITERATIONS,
  PBES2_MAX_ITERATIONS,
  PBES2_MIN_ITERATIONS,
} from '../../src/keys/stores/protect.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { tempDir } from '../support/keys.js'
import { childEnv } from '../support/process.js'

const exec = promisify(execFile)
const PASS = 'correct horse battery staple'
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})
async function keyDir(): Promise<string> {
  const dir = await tempDir('sealed-sealing-')
  dirs.push(dir)
  return dir
}

async function script(name: string, args: string[], env: Record<string, string | undefined>) {
  try {
    const r = await exec(process.execPath, ['node_modules/tsx/dist/cli.mjs', name, ...args], {
      env: childEnv(env),
    })
    return { code: 0, ...r }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

const header = (sealed: string) =>
  JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString('utf8')) as {
    p2c: number
  }

/** Re-seals a key file in place with `p2c` iterations (what an older or hostile tool wrote). */
async function reseal(dir: string, file: string, clearJwk: string, p2c: number): Promise<void> {
  const sealed = await new CompactEncrypt(new TextEncoder().encode(clearJwk))
    .setProtectedHeader({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', cty: 'jwk+json' })
    .setKeyManagementParameters({ p2c })
    .encrypt(new TextEncoder().encode(PASS))
  await writeFile(join(dir, file), sealed + '\n', { mode: 0o600 })
}

describe('generated keys honour the passphrase', () => {
  it('seals the development keys made at start-up when a passphrase is set', async () => {
    const dir = await keyDir()
    const kids = await ensureDevelopmentKeys(dir, { passphrase: PASS })
    expect(kids).toHaveLength(6)
    for (const kid of kids) expect(await readdir(dir)).toContain(`${kid}.private.jwk.jwe`)
    await expect(loadKeyRing(dir)).rejects.toMatchObject({ code: 'ERR_KEYS_PASSPHRASE' })
    const ring = await loadKeyRing(dir, { passphrase: PASS })
    const keys = [...ring.keys, ...ring.hybridKeys]
    for (const kid of kids) expect(keys.find((k) => k.kid === kid)?.state).toBe('active')
  })

  it('writes new seals with 600,000 iterations', async () => {
    const dir = await keyDir()
    const entry = await addGeneratedKey(dir, 'X25519', new Date(), { passphrase: PASS })
    expect(PBES2_ITERATIONS).toBe(600_000)
    expect(header(await readFile(join(dir, entry.file), 'utf8')).p2c).toBe(600_000)
  })

  it('refuses to add a clear key to a sealed directory, or a sealed key to a clear one', async () => {
    const sealed = await keyDir()
    await addGeneratedKey(sealed, 'P-256', new Date(), { passphrase: PASS })
    const before = await readdir(sealed)
    // Without the passphrase nothing can be sealed, nor the ring's MAC written.
    await expect(rotate(sealed, 'P-256', 3600)).rejects.toMatchObject({
      code: 'ERR_KEYS_PASSPHRASE',
    })
    await expect(addGeneratedKey(sealed, 'X25519')).rejects.toMatchObject({
      code: 'ERR_KEYS_PASSPHRASE',
    })
    expect((await readdir(sealed)).sort()).toEqual(before.sort())
    expect((await readManifest(sealed)).keys).toHaveLength(1)
    // With the passphrase, rotation works and the new key is sealed as well.
    const { added } = await rotate(sealed, 'P-256', 3600, { passphrase: PASS })
    expect(added.file).toMatch(/\.jwe$/)

    const clear = await keyDir()
    await addGeneratedKey(clear, 'P-256')
    await expect(
      addGeneratedKey(clear, 'P-256', new Date(), { passphrase: PASS }),
    ).rejects.toMatchObject({ code: 'ERR_KEYS_SEALING_MIXED' })
  })

  it('keys rotate without the passphrase in a sealed directory exits 1 and says what to set', async () => {
    const dir = await keyDir()
    await addGeneratedKey(dir, 'P-256', new Date(), { passphrase: PASS })
    const r = await script('scripts/keys.ts', ['rotate', '--grace', '2h', '--dir', dir], {
      KEYS_PASSPHRASE: undefined,
      KEYS_PASSPHRASE_FILE: undefined,
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/is sealed: set KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE/)
    expect(r.stderr).not.toContain(PASS)
  })
})

describe('PBES2 iteration bounds', () => {
  it('refuses p2c outside the bounds with a clear error, and doctor reports a weak seal', async () => {
    // A key made in clear, then sealed by hand with the iteration counts under test.
    const dir = await keyDir()
    const clear = await addGeneratedKey(dir, 'P-256')
    const clearJwk = await readFile(join(dir, clear.file), 'utf8')
    await rm(join(dir, clear.file))
    const entry = { ...clear, file: `${clear.kid}.private.jwk.jwe` }
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ version: 1, keys: [entry] }))
    for (const p2c of [1, PBES2_MIN_ITERATIONS - 1, PBES2_MAX_ITERATIONS + 1]) {
      await reseal(dir, entry.file, clearJwk, p2c)
      const error = await loadKeyRing(dir, { passphrase: PASS }).catch((e: Error) => e)
      expect(error).toMatchObject({ code: 'ERR_KEYS_SEAL_PARAMETERS' })
      expect((error as Error).message).toContain(`iteration count ${p2c} is outside`)
      expect((await doctor(dir, { passphrase: PASS })).map((f) => f.level)).toContain('error')
    }
    // What the previous release wrote still opens, and doctor calls it weak.
    await reseal(dir, entry.file, clearJwk, 210_000)
    expect((await loadKeyRing(dir, { passphrase: PASS })).get(entry.kid)).toBeDefined()
    const findings = await doctor(dir, { passphrase: PASS })
    expect(findings.filter((f) => f.level === 'error')).toEqual([])
    expect(findings).toContainEqual({
      level: 'warning',
      message: expect.stringContaining(`key ${entry.kid}: weak seal (PBES2 p2c=210000`),
    })
  })
})

describe('npm run encrypt reads public keys only', () => {
  it('encrypts to a sealed directory without the passphrase, from its published JWKS', async () => {
    const dir = await keyDir()
    await addGeneratedKey(dir, 'P-256', new Date(), { passphrase: PASS })
    const ring = await loadKeyRing(dir, { passphrase: PASS })
    await writeFile(join(dir, 'jwks.json'), JSON.stringify(ring.jwks()))
    // Port 1: no gateway answers there, so the published file is used.
    const env = { KEYS_DIR: dir, PORT: '1', KEYS_PASSPHRASE: undefined }
    const r = await script('scripts/encrypt.ts', ['1S00E00AA00'], env)
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toMatch(/^[\w-]+\.[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+$/)
    await rm(join(dir, 'jwks.json'))
    const missing = await script('scripts/encrypt.ts', ['1S00E00AA00'], env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/no public keys: .*jwks\.json is missing/)
    expect(missing.stderr).not.toMatch(/passphrase/i)
  })
})
