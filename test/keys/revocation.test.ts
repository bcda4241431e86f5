/**
 * Revocation and retirement are decided by the key ring's entries alone: a retired or revoked
 * key's private file is never read (it may be gone), and a missing file of an accepted key fails
 * that key only. Reproduces docs/ROTATION.md's runbook (rotate, retire, delete the file, revoke,
 * generate) and the `keys revoke A && rm A's file` shortcut on the key directory store as the
 * gateway follows it, each refused within one reload.
 */
import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { encryptMbiHpke, encryptMbiJwe } from '@sealed-search/client'
import { afterAll, describe, expect, it } from 'vitest'
import { openToken } from '../../src/crypto/token.js'
import { doctor } from '../../src/keys/custody/doctor.js'
import type { PublicJwk } from '../../src/keys/jwk.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { retire, revoke, rotate } from '../../src/keys/custody/lifecycle.js'
import { addGeneratedKey } from '../../src/keys/stores/dir-files.js'
import { capturingLogger } from '../support/app.js'
import { followDir } from '../support/following.js'
import { tempDir } from '../support/keys.js'
import { childEnv } from '../support/process.js'

const exec = promisify(execFile)
const MBI = '1S00E00AA00'
const dirs: string[] = []

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

async function keyDir(): Promise<string> {
  const dir = await tempDir('sealed-revocation-')
  dirs.push(dir)
  return dir
}

/** Exit code and stdout of `npm run keys -- doctor` on `dir`. */
async function doctorCli(dir: string): Promise<{ code: number; stdout: string }> {
  try {
    const r = await exec(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'scripts/keys.ts', 'doctor', '--dir', dir],
      { env: childEnv({}) },
    )
    return { code: 0, stdout: r.stdout }
  } catch (e) {
    const err = e as { code: number; stdout: string }
    return { code: err.code, stdout: err.stdout }
  }
}

/** A JWE and an HPKE token for `jwk`, as a partner would make them from the JWKS. */
async function tokensFor(jwk: PublicJwk): Promise<string[]> {
  return [await encryptMbiJwe(MBI, jwk), await encryptMbiHpke(MBI, jwk)]
}

/** What the ring does with each token: the kid that opened it, or the refusal code. */
async function outcomes(tokens: string[], ring: KeyRing): Promise<string[]> {
  return Promise.all(
    tokens.map((t) =>
      openToken(t, ring, new Date()).then(
        (opened) => `opened by ${opened.kid}`,
        (e: { code: string }) => e.code,
      ),
    ),
  )
}

const publicKey = (ring: KeyRing, kid: string): PublicJwk => {
  const key = ring.get(kid)
  if (!key) throw new Error(`${kid} is not in the ring`)
  return key.publicJwk
}
const published = (ring: KeyRing) => ring.jwks().keys.map((k) => k.kid)
const REFUSED = ['ERR_TOKEN_KID_UNKNOWN', 'ERR_TOKEN_KID_UNKNOWN']
const openedBy = (kid: string) => [`opened by ${kid}`, `opened by ${kid}`]

describe('revocation and retirement never depend on a private file', () => {
  it('follows the rotation runbook (rotate, retire, delete the file, revoke, generate) with every reload succeeding', async () => {
    const dir = await keyDir()
    const { logger, lines } = capturingLogger()
    const a = await addGeneratedKey(dir, 'P-256')
    const source = await followDir(dir, { logger })
    const tokensA = await tokensFor(publicKey(source.current(), a.kid))

    // Rotate: B is active, A retiring and still accepted.
    const { added: b } = await rotate(dir, 'P-256', 3600)
    expect(await source.reload('rotate')).toBe(true)
    const tokensB = await tokensFor(publicKey(source.current(), b.kid))
    expect(await outcomes(tokensA, source.current())).toEqual(openedBy(a.kid))

    // Retire A, then delete its private file. The reload succeeds and A is refused.
    await retire(dir, a.kid)
    await rm(join(dir, a.file))
    expect(await source.reload('retire')).toBe(true)
    expect(source.status().errors).toEqual([])
    expect(await outcomes(tokensA, source.current())).toEqual(REFUSED)
    expect(await outcomes(tokensB, source.current())).toEqual(openedBy(b.kid))

    // Emergency: revoke B. One reload later B opens nothing and is no longer published.
    await revoke(dir, b.kid)
    expect(await source.reload('revoke')).toBe(true)
    expect(await outcomes(tokensB, source.current())).toEqual(REFUSED)
    expect(published(source.current())).toEqual([])

    // A newly generated key is accepted at once and published.
    const c = await addGeneratedKey(dir, 'P-256')
    expect(await source.reload('generate')).toBe(true)
    expect(published(source.current())).toEqual([c.kid])
    const tokensC = await tokensFor(publicKey(source.current(), c.kid))
    expect(await outcomes(tokensC, source.current())).toEqual(openedBy(c.kid))
    expect(source.status().errors).toEqual([])
    expect(lines.filter((l) => /reload failed/.test(l))).toEqual([])
    await source.stop()

    // doctor is content (a retired key's file may be gone) and a restart starts with C only.
    expect((await doctor(dir)).filter((f) => f.level === 'error')).toEqual([])
    const restarted = await followDir(dir, { logger })
    expect(restarted.current().keys.map((k) => k.kid)).toEqual([c.kid])
    await restarted.stop()
  })

  it('refuses a key within one reload of `keys revoke A && rm A`, and serves the others', async () => {
    const dir = await keyDir()
    const { logger } = capturingLogger()
    const a = await addGeneratedKey(dir, 'P-256')
    const x = await addGeneratedKey(dir, 'X25519')
    const source = await followDir(dir, { logger })
    const tokensA = await tokensFor(publicKey(source.current(), a.kid))
    const tokensX = await tokensFor(publicKey(source.current(), x.kid))
    expect(await outcomes(tokensA, source.current())).toEqual(openedBy(a.kid))

    await revoke(dir, a.kid)
    await rm(join(dir, a.file))
    expect(await source.reload('revoke')).toBe(true)
    expect(source.status().errors).toEqual([])
    expect(await outcomes(tokensA, source.current())).toEqual(REFUSED)
    expect(source.current().get(a.kid)).toBeUndefined()
    expect(published(source.current())).toEqual([x.kid])
    expect(await outcomes(tokensX, source.current())).toEqual(openedBy(x.kid))
    await source.stop()
  })

  it('fails only an accepted key whose file is missing, names its kid, still applies revocations, and makes doctor exit 1', async () => {
    const dir = await keyDir()
    const { logger, lines } = capturingLogger()
    const a = await addGeneratedKey(dir, 'P-256')
    const x = await addGeneratedKey(dir, 'X25519')
    const p = await addGeneratedKey(dir, 'P-256')
    const source = await followDir(dir, { logger })
    const tokensX = await tokensFor(publicKey(source.current(), x.kid))
    await source.stop()

    // A's file goes: a new follower (a restart) starts with the other keys and names A.
    await rm(join(dir, a.file))
    const restarted = await followDir(dir, { logger })
    expect(restarted.current().get(a.kid)).toBeUndefined()
    expect(published(restarted.current()).sort()).toEqual([x.kid, p.kid].sort())
    expect(restarted.status().errors).toEqual(['ERR_KEYS_FILE_MISSING'])
    const failure = lines.filter((l) => l.includes('reload failed')).at(-1)
    expect(failure).toContain('ERR_KEYS_FILE_MISSING')
    expect(failure).toContain(a.file)

    // A's file is still missing, and X's revocation applies all the same.
    await revoke(dir, x.kid)
    expect(await restarted.reload('revoke')).toBe(true)
    expect(await outcomes(tokensX, restarted.current())).toEqual(REFUSED)
    expect(published(restarted.current())).toEqual([p.kid])
    expect(restarted.status().errors).toEqual(['ERR_KEYS_FILE_MISSING'])
    await restarted.stop()

    const r = await doctorCli(dir)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(
      new RegExp(`^error +key ${a.kid} \\(active\\) not loaded: .*missing`, 'm'),
    )
  })
})
