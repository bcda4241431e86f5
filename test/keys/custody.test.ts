import { execFile } from 'node:child_process'
import { chmod, copyFile, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { chooseKey, encryptMbiJwe, fetchJwks, patientSearchUrl } from '@sealed-search/client'
import { loadConfig } from '../../src/config/index.js'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import type { KeyStoreError } from '../../src/keys/errors.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { retire, revoke, rotate } from '../../src/keys/custody/lifecycle.js'
import { MANIFEST_FILE, readManifest, writeFileAtomic } from '../../src/keys/stores/manifest.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { createLogger } from '../../src/log/logger.js'
import { parseKeyLastUsed } from '../../src/metrics/index.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { followDir } from '../support/following.js'
import { capturingLogger } from '../support/app.js'
import { tempDir } from '../support/keys.js'
import { childEnv } from '../support/process.js'

const exec = promisify(execFile)

async function keys(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await exec(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'scripts/keys.ts', ...args],
      {
        env: childEnv(env),
      },
    )
    return { code: 0, ...r }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

/** Polls `check` until it holds (true) or `ms` have passed (false). */
async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 10))
  }
  return false
}

describe('key lifecycle', () => {
  it('rotate adds an active key and makes the previous one retiring for the grace period', async () => {
    const dir = await tempDir()
    const old = await addGeneratedKey(dir, 'P-256')
    const x = await addGeneratedKey(dir, 'X25519')
    const now = new Date('2026-06-01T00:00:00Z')
    const { added, retiring } = await rotate(dir, 'P-256', 3600, {}, now)
    expect(retiring.map((k) => k.kid)).toEqual([old.kid])
    const m = await readManifest(dir)
    const byKid = new Map(m.keys.map((k) => [k.kid, k]))
    expect(byKid.get(old.kid)).toMatchObject({
      state: 'retiring',
      notAfter: '2026-06-01T01:00:00.000Z',
    })
    expect(byKid.get(added.kid)).toMatchObject({ state: 'active', crv: 'P-256' })
    expect(byKid.get(x.kid)).toMatchObject({ state: 'active' }) // the other curve is untouched
    const ring = await loadKeyRing(dir)
    expect(
      ring
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual([added.kid, x.kid].sort())
  })

  it('retire refuses the only active key unless forced, and revoke is immediate', async () => {
    const dir = await tempDir()
    const only = await addGeneratedKey(dir, 'P-256')
    await expect(retire(dir, only.kid)).rejects.toMatchObject({ code: 'ERR_KEYS_STATE' })
    await expect(retire(dir, 'nope')).rejects.toMatchObject({ code: 'ERR_KEYS_UNKNOWN_KID' })
    expect((await retire(dir, only.kid, true)).state).toBe('retired')
    expect((await revoke(dir, only.kid)).state).toBe('revoked')
    await expect(retire(dir, only.kid)).rejects.toMatchObject({ code: 'ERR_KEYS_STATE' })
  })
})

describe('passphrase-protected keys', () => {
  it('stores the private key sealed with PBES2 and opens it only with the passphrase', async () => {
    const dir = await tempDir()
    const r = await keys(['generate', '--dir', dir], {
      KEYS_PASSPHRASE: 'correct horse battery staple',
    })
    expect(r.code).toBe(0)
    const kid = r.stdout.trim()
    const files = await readdir(dir)
    expect(files).toContain(`${kid}.private.jwk.jwe`)
    const sealed = await readFile(join(dir, `${kid}.private.jwk.jwe`), 'utf8')
    const header = JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString())
    expect(header).toMatchObject({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM' })
    expect(sealed).not.toContain('"d"')
    const ring = await loadKeyRing(dir, { passphrase: 'correct horse battery staple' })
    expect(ring.get(kid)?.state).toBe('active')
    await expect(loadKeyRing(dir)).rejects.toMatchObject({ code: 'ERR_KEYS_PASSPHRASE' })
    const wrong = await loadKeyRing(dir, { passphrase: 'not-the-passphrase' }).catch(
      (e: KeyStoreError) => e,
    )
    expect(wrong).toMatchObject({ code: 'ERR_KEYS_PASSPHRASE' })
    expect((wrong as Error).message).not.toContain('not-the-passphrase')
  })

  it('reads the passphrase from KEYS_PASSPHRASE_FILE', async () => {
    const dir = await tempDir()
    const file = join(dir, 'pass')
    await writeFile(file, 'from a file\n', { mode: 0o600 })
    const keyDir = join(dir, 'keys')
    const r = await keys(['generate', '--dir', keyDir], { KEYS_PASSPHRASE_FILE: file })
    expect(r.code).toBe(0)
    expect(loadConfig({ KEYS_PASSPHRASE_FILE: file }).keys.passphrase).toBe('from a file')
    expect((await loadKeyRing(keyDir, { passphrase: 'from a file' })).keys).toHaveLength(1)
  })
})

describe('npm run keys (custody commands)', () => {
  it('has --help for every command', async () => {
    for (const c of ['generate', 'list', 'rotate', 'retire', 'revoke', 'publish', 'doctor']) {
      const r = await keys([c, '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`npm run keys -- ${c}`)
    }
  })

  it('rotate refuses a grace period within the JWKS cache lifetime', async () => {
    const dir = await tempDir()
    await keys(['generate', '--dir', dir])
    const r = await keys(['rotate', '--grace', '60s', '--dir', dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/longer than the JWKS cache lifetime/)
  })

  it('rotate, retire and revoke change states as list shows', async () => {
    const dir = await tempDir()
    const first = (await keys(['generate', '--dir', dir])).stdout.trim()
    const rotated = await keys([
      'rotate',
      '--grace',
      '2h',
      '--publish-delay',
      '0',
      '--force',
      '--dir',
      dir,
    ])
    expect(rotated.code).toBe(0)
    const second = rotated.stdout.trim()
    let list = (await keys(['list', '--dir', dir])).stdout
    expect(list).toMatch(new RegExp(`^${first}\\tP-256\\tretiring\\t`, 'm'))
    expect(list).toMatch(new RegExp(`^${second}\\tP-256\\tactive\\t`, 'm'))
    expect((await keys(['retire', first, '--dir', dir])).code).toBe(0)
    expect((await keys(['revoke', second, '--dir', dir])).code).toBe(0)
    list = (await keys(['list', '--dir', dir])).stdout
    expect(list).toMatch(new RegExp(`^${first}\\tP-256\\tretired\\t`, 'm'))
    expect(list).toMatch(new RegExp(`^${second}\\tP-256\\trevoked\\t`, 'm'))
    expect((await keys(['retire', 'no-such-kid', '--dir', dir])).code).toBe(1)
  })

  it('doctor passes a healthy directory and reports loose permissions, strays and no active key', async () => {
    const dir = await tempDir()
    const kid = (await keys(['generate', '--dir', dir])).stdout.trim()
    let r = await keys(['doctor', '--dir', dir])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^ok/m)
    await chmod(join(dir, `${kid}.private.jwk.json`), 0o644)
    await writeFile(join(dir, 'stray.private.jwk.json'), '{}', { mode: 0o600 })
    r = await keys(['doctor', '--dir', dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/error .*permissions 644 are too open/)
    expect(r.stdout).toMatch(
      /warning stray\.private\.jwk\.json: a key file the manifest does not list/,
    )
    await chmod(join(dir, `${kid}.private.jwk.json`), 0o600)
    await keys(['revoke', kid, '--dir', dir])
    r = await keys(['doctor', '--dir', dir])
    expect(r.stdout).toMatch(/error +no active key/)
  })

  it("doctor reports the temporary files a killed write leaves, a private key's as such", async () => {
    const dir = await tempDir()
    const kid = (await keys(['generate', '--dir', dir])).stdout.trim()
    // What a keys command killed between its write and its rename leaves (writeFileAtomic).
    const plain = `${kid}.private.jwk.json.0123456789ab.tmp`
    const sealed = `${kid}.private.jwk.jwe.a1b2c3d4e5f6.tmp`
    const manifest = `${MANIFEST_FILE}.00ff00ff00ff.tmp`
    const fresh = `${kid}.private.jwk.json.ffffffffffff.tmp`
    await copyFile(join(dir, `${kid}.private.jwk.json`), join(dir, plain))
    await writeFile(join(dir, sealed), 'x', { mode: 0o600 })
    await writeFile(join(dir, manifest), '{', { mode: 0o600 })
    await writeFile(join(dir, fresh), '{}', { mode: 0o600 })
    const old = new Date(Date.now() - 120_000)
    for (const file of [plain, sealed, manifest]) await utimes(join(dir, file), old, old)
    const r = await keys(['doctor', '--dir', dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      `error   ${plain}: an interrupted write left an unsealed private key here; delete it once no keys command is running`,
    )
    expect(r.stdout).toMatch(
      new RegExp(
        `warning ${sealed.replaceAll('.', '\\.')}: an interrupted write left a sealed private key here`,
      ),
    )
    expect(r.stdout).toMatch(
      new RegExp(
        `warning ${manifest.replaceAll('.', '\\.')}: an interrupted write of manifest\\.json left this file`,
      ),
    )
    // A write younger than a minute may still be under way: not reported.
    expect(r.stdout).not.toContain(fresh)
    // Never the key material itself.
    const d = (JSON.parse(await readFile(join(dir, plain), 'utf8')) as { d: string }).d
    expect(r.stdout + r.stderr).not.toContain(d)
  })

  it('an atomic write that fails removes its temporary file', async () => {
    const dir = await tempDir()
    // The target is a directory: the rename fails after the temporary file was written.
    await mkdir(join(dir, 'target'))
    await expect(writeFileAtomic(join(dir, 'target'), 'secret', 0o600)).rejects.toThrow()
    expect(await readdir(dir)).toEqual(['target'])
    await writeFileAtomic(join(dir, 'file'), 'text', 0o600)
    expect(await readFile(join(dir, 'file'), 'utf8')).toBe('text')
    expect((await readdir(dir)).sort()).toEqual(['file', 'target'])
  })
})

describe('reloading the key ring without a restart', () => {
  it('keeps the last good ring when the manifest breaks or a key file is exposed, and logs why', async () => {
    const dir = await tempDir()
    const a = await addGeneratedKey(dir, 'P-256')
    const { logger, lines } = capturingLogger()
    const source = await followDir(dir, { logger })
    const good = source.current()
    await writeFile(join(dir, MANIFEST_FILE), '{ not json')
    expect(await source.reload('test')).toBe(false)
    expect(source.current()).toBe(good)
    expect(lines.at(-1)).toMatch(/"code":"ERR_KEYS_MANIFEST_INVALID".*keeping the last good ring/)
    await writeFile(
      join(dir, MANIFEST_FILE),
      JSON.stringify({
        version: 1,
        keys: [
          {
            kid: a.kid,
            crv: 'P-256',
            state: 'active',
            created: a.created,
            notAfter: null,
            file: a.file,
          },
        ],
      }),
    )
    expect(await source.reload('test')).toBe(true)
    expect(source.current()).not.toBe(good)
    expect(source.current().get(a.kid)).toBeDefined()
    await source.stop()
    // A key file readable by others is refused on load: that key alone, named in the log.
    await chmod(join(dir, a.file), 0o640)
    const restarted = await followDir(dir, { logger })
    expect(restarted.current().get(a.kid)).toBeUndefined()
    expect(restarted.status().errors).toEqual(['ERR_KEYS_FILE_PERMISSIONS'])
    expect(lines.at(-1)).toMatch(/ERR_KEYS_FILE_PERMISSIONS/)
    await restarted.stop()
  })
})

describe('rotation under load, over real HTTP', () => {
  let gateway: RunningGateway | undefined
  const schema = `rot_${randomBytes(5).toString('hex')}`
  afterAll(async () => {
    await gateway?.close()
    if (process.env.DATABASE_URL) {
      const sql = createSql({ url: process.env.DATABASE_URL, max: 1 })
      await sql`drop schema if exists ${sql(schema)} cascade`
      await sql.end()
    }
  })

  it('serves tokens for the old and the new key across a rotation with 0 failures, and drops a revoked key within 1 s', async () => {
    const dir = await tempDir()
    const keyDir = join(dir, 'keys')
    const url = process.env.DATABASE_URL
    const config = loadConfig({
      PORT: '0',
      KEYS_DIR: keyDir,
      DATA_DIR: join(dir, 'data'),
      SEED_COUNT: '40',
      // The audit trail to a file: a passing run prints nothing.
      AUDIT_LOG: join(dir, 'audit.log'),
      ...(url ? { DATABASE_URL: url, DATABASE_SCHEMA: schema } : {}),
    })
    gateway = await startGateway(config, createLogger('silent'))
    if (url) await seed(gateway.db.sql, { count: 40 })
    const base = gateway.url
    // The development ring has a current and a next key per curve; this test rotates P-256.
    const oldKey = chooseKey(await fetchJwks(`${base}/.well-known/jwks.json`), 'P-256')
    const oldTokens = await Promise.all(
      [0, 1, 2, 3].map((i) => encryptMbiJwe(seededMbi(i), oldKey)),
    )

    let newTokens: string[] = []
    let stop = false
    const results = { ok: 0, failed: [] as number[], old: 0, fresh: 0 }
    const worker = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const useNew = newTokens.length > 0 && n % 2 === 1
        const i = (w + n) % 4
        const token = useNew ? newTokens[i]! : oldTokens[i]!
        const res = await fetch(patientSearchUrl(base, token))
        const body = (await res.json()) as { entry?: { resource: { id: string } }[] }
        if (res.status === 200 && body.entry?.[0]?.resource.id === seededBeneId(i)) {
          results.ok++
          if (useNew) results.fresh++
          else results.old++
        } else results.failed.push(res.status)
      }
    }
    const load = Promise.all([0, 1, 2, 3].map(worker))

    await new Promise((r) => setTimeout(r, 300))
    const rotated = await keys([
      'rotate',
      '--curve',
      'P-256',
      '--grace',
      '1h',
      '--publish-delay',
      '0',
      '--force',
      '--dir',
      keyDir,
    ])
    expect(rotated.code).toBe(0)
    const newKid = rotated.stdout.trim()
    // Partners that refetch the JWKS no longer see the old key: the curve's next key is its
    // current key now (listed first, so chooseKey takes it), and the new key is its next key.
    expect(
      await until(async () => {
        const jwks = await fetchJwks(`${base}/.well-known/jwks.json`)
        const p256 = jwks.keys.filter((k) => k.crv === 'P-256')
        return p256.length === 2 && p256[0]!.kid !== oldKey.kid && p256[1]!.kid === newKid
      }, 2000),
    ).toBe(true)
    const newKey = chooseKey(await fetchJwks(`${base}/.well-known/jwks.json`), 'P-256')
    expect([oldKey.kid, newKid]).not.toContain(newKey.kid)
    newTokens = await Promise.all([0, 1, 2, 3].map((i) => encryptMbiJwe(seededMbi(i), newKey)))
    await new Promise((r) => setTimeout(r, 500))
    stop = true
    await load
    expect(results.failed).toEqual([])
    expect(results.old).toBeGreaterThan(0)
    expect(results.fresh).toBeGreaterThan(0)

    // Metrics show both keys' traffic, per kid.
    const metrics = await (await fetch(`${base}/metrics`)).text()
    const used = parseKeyLastUsed(metrics)
    expect([...used.keys()].sort()).toEqual([oldKey.kid!, newKey.kid!].sort())
    expect(metrics).toMatch(
      new RegExp(`sealed_search_key_state\\{kid="${oldKey.kid}",crv="P-256",state="retiring"\\} 1`),
    )

    // Emergency: revoke the old key; the running gateway rejects it within 1 s, no restart.
    const revoked = await keys(['revoke', oldKey.kid!, '--dir', keyDir])
    expect(revoked.code).toBe(0)
    const rejected = await until(async () => {
      const res = await fetch(patientSearchUrl(base, oldTokens[0]!))
      await res.arrayBuffer()
      return res.status === 400
    }, 1000)
    expect(rejected).toBe(true)
    const res = await fetch(patientSearchUrl(base, oldTokens[0]!))
    const outcome = (await res.json()) as {
      issue: { details: { coding: { code: string }[] }; diagnostics: string }[]
    }
    expect(outcome.issue[0]!.details.coding[0]!.code).toBe('ERR_TOKEN_KID_UNKNOWN')
    expect(outcome.issue[0]!.diagnostics).toMatch(/fetch the current JWKS/)
    // The new key still works.
    expect((await fetch(patientSearchUrl(base, newTokens[0]!))).status).toBe(200)

    // Every load went well: the last good load is recent and no failure was counted.
    const after = await (await fetch(`${base}/metrics`)).text()
    const lastGood = /^sealed_search_key_ring_last_good_load_seconds ([0-9.e+]+)$/m.exec(after)
    expect(Number(lastGood?.[1]) * 1000).toBeGreaterThan(Date.now() - 60_000)
    expect(after).toMatch(/^# TYPE sealed_search_key_ring_reload_failures_total counter$/m)
    expect(after).not.toMatch(/^sealed_search_key_ring_reload_failures_total\{/m)
  }, 60_000) // two custodian commands, each a Node start-up
})

describe('key ids that begin with a dash', () => {
  it('are taken as the kid argument, not as an option', async () => {
    const dir = await tempDir()
    const real = await addGeneratedKey(dir, 'P-256')
    await addGeneratedKey(dir, 'P-256')
    // Before the fix the parser took a dash-led kid for an unknown option and exited 2.
    const r = await keys(['retire', '-s_ABnWl9rE6pnXr8Iz1gr-0m-RJimM3TEV4UrDPwGM', '--dir', dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/no key with kid -s_ABnWl9rE6pnXr8Iz1gr-0m-RJimM3TEV4UrDPwGM/)
    expect((await keys(['retire', real.kid, '--dir', dir])).code).toBe(0)
  })
})
