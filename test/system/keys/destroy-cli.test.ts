/**
 * `npm run keys -- destroy` as a custodian runs it on a key directory a gateway process serves:
 * refused for an active key with the reason; after retire, the key file is gone and the manifest
 * keeps the kid; a restarted gateway answers a token for it 400 ERR_TOKEN_KID_UNKNOWN (an
 * OperationOutcome, never a 500) and logs no error; doctor fails when the key's file reappears.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbi, patientSearchUrl } from '@sealed-search/client'
import { seededMbi } from '../../../src/db/seed.js'
import { readManifest } from '../../../src/keys/stores/manifest.js'
import type { ScanReport } from '../../../src/logscan/index.js'
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js'
import { tempDir } from '../../support/keys.js'
import { runScript } from '../../support/scripts.js'

let keysDir: string
let gateway: GatewayProcess | undefined
const keys = (args: string[]) => runScript('keys', [...args, '--dir', keysDir])

beforeAll(async () => {
  keysDir = join(await tempDir('sealed-destroy-cli-'), 'keys')
})
afterAll(async () => {
  await gateway?.stop()
})

async function search(token: string) {
  const res = await fetch(patientSearchUrl(gateway!.url, token))
  const body = (await res.json()) as {
    resourceType: string
    issue?: { details?: { coding?: { code: string }[] } }[]
  }
  return { status: res.status, body }
}

describe('keys destroy on a key directory a gateway serves', () => {
  it('refuses an active key, destroys it once retired, and a restarted gateway refuses its tokens', async () => {
    const old = (await keys(['generate', '--curve', 'P-256'])).stdout.trim()
    const next = (await keys(['generate', '--curve', 'P-256'])).stdout.trim()
    expect(old).not.toBe(next)
    gateway = await startGatewayProcess({ KEYS_DIR: keysDir, LOG_LEVEL: 'info' })
    const jwk = (kid: string) => gateway!.jwks.keys.find((k) => k.kid === kid)!
    const oldToken = await encryptMbi(seededMbi(1), jwk(old) as never)
    const nextToken = await encryptMbi(seededMbi(2), jwk(next) as never)
    expect((await search(oldToken)).status).toBe(200)

    const refused = await keys(['destroy', old])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe(
      `error: ${old} is active: only a retired or revoked key can be destroyed (gateways still accept or publish it); retire it first, after its traffic has drained\n`,
    )
    expect((await keys(['retire', old])).code).toBe(0)
    const destroyed = await keys(['destroy', old])
    expect(destroyed.code).toBe(0)
    expect(destroyed.stderr).toMatch(
      new RegExp(`^${old} destroyed at \\S+: its private key is gone`),
    )
    const manifest = await readManifest(keysDir)
    const entry = manifest.keys.find((k) => k.kid === old)!
    expect(entry).toMatchObject({ state: 'destroyed', destroyedAt: expect.any(String) })

    await gateway.stop()
    gateway = await startGatewayProcess({ KEYS_DIR: keysDir, LOG_LEVEL: 'info' })
    expect(gateway.jwks.keys.map((k) => k.kid)).toEqual([next])
    const refusedToken = await search(oldToken)
    expect(refusedToken.status).toBe(400)
    expect(refusedToken.body.resourceType).toBe('OperationOutcome')
    expect(JSON.stringify(refusedToken.body)).toContain('ERR_TOKEN_KID_UNKNOWN')
    expect((await search(nextToken)).status).toBe(200)
    // Stopped, the gateway has written every log line it held (LOG_FLUSH_MS).
    await gateway.stop()
    expect(gateway.running.output()).not.toMatch(/"level":(50|60)/)

    // The gateway's log of these requests, scanned: the old key's token is counted as destroyed.
    const log = join(keysDir, '..', 'gateway.log')
    await writeFile(log, gateway.running.output())
    const scan = await runScript('logs-scan', ['--json', '--dir', keysDir, log])
    expect(scan.code, scan.stderr).toBe(0)
    const report = JSON.parse(scan.stdout) as ScanReport
    expect(report.keys.find((k) => k.kid === old)).toMatchObject({ state: 'destroyed', tokens: 1 })
    expect(report.destroyed).toBe(1)
    expect(report.decryptable).toBe(report.tokens - 1)

    expect((await keys(['doctor'])).code).toBe(0)
    // A copy of the key file put back (a restored backup): doctor fails, naming it.
    await writeFile(join(keysDir, entry.file), '{}\n', { mode: 0o600 })
    const checked = await keys(['doctor'])
    expect(checked.code).toBe(1)
    expect(checked.stdout).toContain(
      `error   ${old} is destroyed but ${join(keysDir, entry.file)} still exists`,
    )
    // destroy again removes it.
    expect((await keys(['destroy', old])).code).toBe(0)
    expect((await keys(['doctor'])).code).toBe(0)
  }, 120_000)

  it('schedules destruction at retirement from KEYS_DESTROY_AFTER, and sweep leaves a key not yet due', async () => {
    const dir = join(await tempDir('sealed-destroy-default-'), 'keys')
    const run = (args: string[], env: Record<string, string> = {}) =>
      runScript('keys', [...args, '--dir', dir], env)
    const kid = (await run(['generate', '--curve', 'P-256'])).stdout.trim()
    await run(['generate', '--curve', 'P-256'])
    const retired = await run(['retire', kid], { KEYS_DESTROY_AFTER: '86400' })
    expect(retired.code, retired.stderr).toBe(0)
    const { destroyAt } = (await readManifest(dir)).keys.find((k) => k.kid === kid)!
    expect(Date.parse(destroyAt!) - Date.now()).toBeGreaterThan(86_000_000)
    expect(retired.stderr).toContain(`${kid} is to be destroyed at ${destroyAt}`)
    const swept = await run(['sweep'])
    expect([swept.code, swept.stdout, swept.stderr]).toEqual([0, '', '0 key(s) destroyed\n'])
    expect((await readManifest(dir)).keys.find((k) => k.kid === kid)!.state).toBe('retired')
  }, 60_000)
})
