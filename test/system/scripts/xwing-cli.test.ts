/**
 * The commands as processes, with X-Wing: `npm run keys -- generate --curve X-Wing` (and publish,
 * doctor, --hsm refused), and `npm run encrypt -- --crv X-Wing` and `--format hpke`, whose tokens
 * open with the ring the directory holds.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { openToken } from '../../../src/crypto/token.js'
import { loadKeyRing } from '../../../src/keys/ring/open-key.js'
import { childEnv } from '../../support/process.js'
import { tempDir } from '../../support/keys.js'

const run = promisify(execFile)
const MBI = '1S00E00AA00'

async function script(name: string, args: string[], input?: string) {
  try {
    const child = run(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', `scripts/${name}.ts`, ...args],
      {
        env: childEnv({}),
      },
    )
    if (input !== undefined) child.child.stdin!.end(input)
    const { stdout, stderr } = await child
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

describe('X-Wing from the command line', () => {
  let dir: string
  let xwingKid: string
  beforeAll(async () => {
    dir = join(await tempDir(), 'keys')
    expect((await script('keys', ['generate', '--curve', 'X25519', '--dir', dir])).code).toBe(0)
    const r = await script('keys', ['generate', '--curve', 'X-Wing', '--dir', dir])
    expect(r.code).toBe(0)
    xwingKid = r.stdout.trim()
    expect((await script('keys', ['publish', '--dir', dir])).code).toBe(0)
  }, 120_000)

  it('generate --curve X-Wing writes the seed in a 0600 file, never to the terminal', async () => {
    const jwk = JSON.parse(await readFile(join(dir, `${xwingKid}.private.jwk.json`), 'utf8'))
    expect(jwk).toMatchObject({ kty: 'AKP', alg: 'X-Wing', kid: xwingKid })
    const ring = await loadKeyRing(dir)
    expect(ring.hybridKeys.map((k) => k.kid)).toEqual([xwingKid])
  })

  it('publish lists the X-Wing key in the AKP form, public members only', async () => {
    const jwks = JSON.parse(await readFile(join(dir, 'jwks.json'), 'utf8')) as {
      keys: Record<string, unknown>[]
    }
    const xwing = jwks.keys.find((k) => k.kid === xwingKid)!
    expect(Object.keys(xwing).sort()).toEqual(['alg', 'hpke_key_id', 'kid', 'kty', 'pub', 'use'])
  })

  it('doctor passes the directory', async () => {
    const r = await script('keys', ['doctor', '--dir', dir])
    expect(r.stdout).not.toMatch(/^error/m)
    expect(r.code).toBe(0)
  })

  it('refuses generate --curve X-Wing --hsm, naming what a token lacks', async () => {
    const r = await script('keys', ['generate', '--curve', 'X-Wing', '--hsm', '--dir', dir])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/no X-Wing mechanism/)
  })

  it('encrypt --crv X-Wing makes a hybrid token (about 1,550 characters) that the ring opens', async () => {
    const jwks = join(dir, 'jwks.json')
    const r = await script(
      'encrypt',
      ['-', '--crv', 'X-Wing', '--jwks', jwks, '--base', 'https://gw.example'],
      MBI,
    )
    expect(r.code).toBe(0)
    const token = r.stdout.split('\n')[0]!
    expect(token).toHaveLength(1542)
    const opened = await openToken(token, await loadKeyRing(dir), new Date())
    expect(opened).toMatchObject({ mbi: MBI, kid: xwingKid, kemId: 0x647a })
  })

  it('encrypt --format hpke without --crv takes the X25519 key: 91 characters', async () => {
    const jwks = join(dir, 'jwks.json')
    const r = await script(
      'encrypt',
      ['-', '--format', 'hpke', '--jwks', jwks, '--base', 'https://gw.example'],
      MBI,
    )
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toHaveLength(91)
  })
})
