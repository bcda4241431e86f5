import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../support/keys.js'
import { childEnv } from '../../support/process.js'

const exec = promisify(execFile)
const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

async function keys(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'scripts/keys.ts', ...args], {
      env: childEnv({ KEYS_POLL_INTERVAL: '5', JWKS_MAX_AGE: '300', ...env }),
    })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

const row = (list: string, kid: string) =>
  list
    .split('\n')
    .find((l) => l.startsWith(`${kid}\t`))
    ?.split('\t')

describe('staged rotation with the directory store (npm run keys)', () => {
  it('rotate adds a pending key that list shows with its publish time and publish leaves out', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const first = (await keys(['generate', '--dir', dir])).stdout.trim()
    const started = Date.now()
    const rotated = await keys(['rotate', '--grace', '1h', '--publish-delay', '10m', '--dir', dir])
    expect(rotated.code, rotated.stderr).toBe(0)
    const next = rotated.stdout.trim()
    const list = (await keys(['list', '--dir', dir])).stdout
    expect(list.split('\n')[0]!.split('\t')).toContain('publishAt')
    const [, crv, state, , , publishAt] = row(list, next)!
    expect([crv, state]).toEqual(['P-256', 'pending'])
    const delay = Date.parse(publishAt!) - started
    expect(delay).toBeGreaterThanOrEqual(600_000)
    expect(delay).toBeLessThan(600_000 + 60_000)
    // The previous key is published until then, and accepted for the grace period after.
    const old = row(list, first)!
    expect(old[2]).toBe('active')
    expect(old[5]).toBe(publishAt)
    expect(Date.parse(old[4]!) - Date.parse(publishAt!)).toBe(3_600_000)
    const jwks = JSON.parse((await keys(['publish', '--out', '-', '--dir', dir])).stdout)
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([first])
    // One staged rotation per curve at a time.
    const again = await keys(['rotate', '--grace', '1h', '--publish-delay', '10m', '--dir', dir])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/rotation is staged already/)
  })

  it('refuses a publish delay within two poll intervals unless --force', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    await keys(['generate', '--dir', dir])
    const r = await keys(['rotate', '--grace', '1h', '--publish-delay', '10s', '--dir', dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/longer than two KEYS_POLL_INTERVALs \(10 s\)/)
    const forced = await keys([
      'rotate',
      '--grace',
      '1h',
      '--publish-delay',
      '10s',
      '--force',
      '--dir',
      dir,
    ])
    expect(forced.code, forced.stderr).toBe(0)
  })
})
