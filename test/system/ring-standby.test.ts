/**
 * Fail closed on staleness, with a real primary and hot standby (own clusters, made once for this
 * file). The gateway (KEY_STORE=postgres) reaches the primary and the standby each through a TCP
 * proxy the test cuts (connections refused, as to a host that is down). With the primary cut, a custodian revokes on the primary itself: the
 * gateway follows the ring from the standby (DATABASE_READ_URL) and refuses the revoked key within
 * KEYS_POLL_INTERVAL + 1 s of the standby replaying it. With the standby cut too, the ring is read
 * from nowhere: after KEYS_FAIL_CLOSED_AFTER, searches answer 503 ERR_KEYS_RING_STALE with
 * Retry-After; once a host is back, 200 again, and the revocation still holds.
 * Runs with the real-server suite (DATABASE_URL set) as root, as CI does; skipped otherwise.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbi, patientSearchUrl } from '@sealed-search/client'
import { loadConfig } from '../../src/config/index.js'
import { seed, seededMbi } from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { capturingLogger } from '../support/app.js'
import { tempDir } from '../support/keys.js'
import { needs, REAL_SERVER } from '../support/needs.js'
import {
  canMakeClusters,
  CLUSTER_DATABASE,
  CLUSTER_USER,
  replicatedPair,
  type ReplicatedPair,
} from '../support/pg-cluster.js'
import { childEnv } from '../support/process.js'
import { stoppableProxy, type StoppableProxy } from '../support/stoppable-proxy.js'

const exec = promisify(execFile)
const enabled = Boolean(process.env.DATABASE_URL) && canMakeClusters
const POLL_SECONDS = 1
const FAIL_CLOSED_SECONDS = 3

interface Jwk {
  kid: string
  crv: string
}

let pair: ReplicatedPair
let toPrimary: StoppableProxy
let toStandby: StoppableProxy
let gateway: RunningGateway
let p256: Jwk // revoked on the primary while the gateway cannot reach it
let x25519: Jwk // stays
const passphrase = randomBytes(16).toString('hex')
const log = capturingLogger()

const via = (proxy: StoppableProxy) =>
  `postgres://${CLUSTER_USER}:${CLUSTER_USER}@127.0.0.1:${proxy.port}/${CLUSTER_DATABASE}`

async function search(jwk: Jwk) {
  const token = await encryptMbi(seededMbi(1), jwk as never, { format: 'jwe' })
  const res = await fetch(patientSearchUrl(gateway.url, token))
  const body = (await res.json()) as { issue?: { details?: { coding: { code: string }[] } }[] }
  const code = body.issue?.[0]?.details?.coding[0]?.code
  return { status: res.status, code, retry: res.headers.get('Retry-After') }
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return Number(line?.split(' ')[1])
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

beforeAll(async () => {
  if (!enabled) return
  pair = await replicatedPair()
  toPrimary = await stoppableProxy('127.0.0.1', pair.primary.port)
  toStandby = await stoppableProxy('127.0.0.1', pair.standby.port)
  const work = await tempDir('sealed-ring-standby-')
  const env = {
    PORT: '0',
    KEY_STORE: 'postgres',
    KEYS_PASSPHRASE: passphrase,
    KEYS_AUTOGENERATE: 'true',
    KEYS_POLL_INTERVAL: String(POLL_SECONDS),
    KEYS_FAIL_CLOSED_AFTER: String(FAIL_CLOSED_SECONDS),
    JWKS_MAX_AGE: '1',
    DATABASE_URL: via(toPrimary),
    DATABASE_READ_URL: via(toStandby),
    DB_CONNECT_TIMEOUT: '2',
    DB_QUERY_TIMEOUT: '5',
    AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
    AUDIT_LOG: `${work}/audit.log`,
  }
  gateway = await startGateway(loadConfig(env), log.logger)
  const primary = createSql({ url: pair.primary.url, max: 2 })
  await seed(primary, { count: 5 })
  await primary.end()
  await pair.caughtUp()
  const { keys } = (await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json()) as {
    keys: Jwk[]
  }
  p256 = keys.find((k) => k.crv === 'P-256')!
  x25519 = keys.find((k) => k.crv === 'X25519')!
}, 180_000)

afterAll(async () => {
  await gateway?.close()
  await toPrimary?.close()
  await toStandby?.close()
  await pair?.drop()
}, 120_000)

describe.runIf(
  needs(enabled, `a primary and a hot standby ${REAL_SERVER} and pg_createcluster (postgresql-15)`),
)('the key ring followed from a hot standby (own primary + standby clusters)', () => {
  it('refuses a key revoked on the primary within KEYS_POLL_INTERVAL + 1 s of the standby replaying it, with the primary cut', async () => {
    expect(await search(p256)).toMatchObject({ status: 200 })
    expect(await search(x25519)).toMatchObject({ status: 200 })

    // The gateway loses the primary: no NOTIFY reaches it, and its polls fail over to the standby.
    await toPrimary.stop()
    await sleep(2 * POLL_SECONDS * 1000)
    expect(await search(p256)).toMatchObject({ status: 200 })

    // The custodian, who can reach the primary, revokes exactly as the runbook says.
    const revoked = await exec(
      process.execPath,
      ['--import', 'tsx', 'scripts/keys.ts', 'revoke', p256.kid],
      {
        env: childEnv({
          KEY_STORE: 'postgres',
          DATABASE_URL: pair.primary.url,
          KEYS_PASSPHRASE: passphrase,
        }),
      },
    )
    expect(`${revoked.stdout}${revoked.stderr}`).toContain(`${p256.kid} revoked`)
    await pair.caughtUp()
    const replayed = Date.now()
    let answer = await search(p256)
    while (answer.status === 200 && Date.now() - replayed < 10_000) {
      await sleep(50)
      answer = await search(p256)
    }
    const tookMs = Date.now() - replayed
    process.stderr.write(`revoked key refused ${tookMs} ms after the standby replayed it\n`)
    expect(answer).toEqual({ status: 400, code: 'ERR_TOKEN_KID_UNKNOWN', retry: null })
    expect(tookMs).toBeLessThanOrEqual(POLL_SECONDS * 1000 + 1000)
    // Followed, not failed closed: the other key still decrypts, and the instance is ready.
    expect(await search(x25519)).toMatchObject({ status: 200 })
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200)
    expect(await metric('sealed_search_key_ring_fail_closed')).toBe(0)
    const failovers = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(failovers).toMatch(
      new RegExp(
        `^sealed_search_db_read_failovers_total\\{host="127.0.0.1:${toPrimary.port}"\\} [1-9]`,
        'm',
      ),
    )
  })

  it('answers 503 with Retry-After once the ring is read from no host for longer than KEYS_FAIL_CLOSED_AFTER, and 200 once a host is back', async () => {
    await toStandby.stop()
    const cut = Date.now()
    // Meanwhile a search: the database is out of reach too, so 503 either way, never a 500.
    const during = search(x25519)
    // The gateway's own view (a scrape needs no database), read every 100 ms.
    while (
      (await metric('sealed_search_key_ring_fail_closed')) !== 1 &&
      Date.now() - cut < 15_000
    ) {
      await sleep(100)
    }
    const stopped = Date.now()
    const lastRead = gateway.keys.status().lastRead!.getTime()
    process.stderr.write(
      `decryption stopped ${stopped - cut} ms after the last host was cut, ${stopped - lastRead} ms after the last read\n`,
    )
    // Not before the bound counted from the last read; after it, within the timer's ticks (one
    // interval, and one more for a tick delayed on a busy machine) and a second.
    expect(stopped - lastRead).toBeGreaterThan(FAIL_CLOSED_SECONDS * 1000)
    expect(stopped - lastRead).toBeLessThanOrEqual(
      (FAIL_CLOSED_SECONDS + 2 * POLL_SECONDS + 1) * 1000,
    )
    expect(lastRead).toBeLessThanOrEqual(cut + POLL_SECONDS * 1000)
    // Every search that would decrypt is refused before it reaches the database.
    expect(await search(x25519)).toEqual({ status: 503, code: 'ERR_KEYS_RING_STALE', retry: '5' })
    expect(await search(p256)).toEqual({ status: 503, code: 'ERR_KEYS_RING_STALE', retry: '5' })
    expect(await during).toMatchObject({ status: 503, retry: '5' })
    expect(await metric('sealed_search_key_ring_fail_closed')).toBe(1)
    const said = log.lines.filter((l) => l.includes('longer than KEYS_FAIL_CLOSED_AFTER'))
    expect(said).toHaveLength(1)
    expect(JSON.parse(said[0]!)).toMatchObject({ code: 'ERR_KEYS_RING_STALE', store: 'postgres' })

    // The standby is back: the ring is read from it again, and decryption resumes by itself.
    await toStandby.start()
    const back = Date.now()
    let answer = await search(x25519)
    while (answer.status !== 200 && Date.now() - back < 15_000) {
      await sleep(100)
      answer = await search(x25519)
    }
    process.stderr.write(
      `searches answered 200 ${Date.now() - back} ms after the standby was back\n`,
    )
    expect(answer.status).toBe(200)
    expect(await metric('sealed_search_key_ring_fail_closed')).toBe(0)
    expect(log.lines.some((l) => l.includes('searches decrypt again'))).toBe(true)
    // The revocation holds, from the standby and once the primary is back.
    expect(await search(p256)).toMatchObject({ status: 400, code: 'ERR_TOKEN_KID_UNKNOWN' })
    await toPrimary.start()
    await sleep(2 * POLL_SECONDS * 1000)
    expect(await search(p256)).toMatchObject({ status: 400, code: 'ERR_TOKEN_KID_UNKNOWN' })
    expect(await search(x25519)).toMatchObject({ status: 200 })
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200)
  })
})
