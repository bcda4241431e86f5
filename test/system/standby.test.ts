import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needs, REAL_SERVER } from '../support/needs.js'
import { chooseKey, encryptMbiJwe, fetchJwks, patientSearchUrl } from '@sealed-search/client'
import { loadConfig } from '../../src/config/index.js'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { capturingLogger } from '../support/app.js'
import { tempDir } from '../support/keys.js'
import {
  canMakeClusters,
  CLUSTER_DATABASE,
  CLUSTER_USER,
  replicatedPair,
  type ReplicatedPair,
} from '../support/pg-cluster.js'

// A primary and a streaming hot standby of the test's own (two PostgreSQL 15 clusters on free
// ports, made once for this file), so stopping either never touches the machine's main cluster.
// Runs with the real-server suite (DATABASE_URL set) as root, as CI does; skipped otherwise.
const enabled = Boolean(process.env.DATABASE_URL) && canMakeClusters

let pair: ReplicatedPair
let gateway: RunningGateway
let key: ReturnType<typeof chooseKey>
let keysDir: string
let work: string | undefined
const log = capturingLogger()
const NEW_MBI = syntheticMbi(3_000_000_000)
const NEW_BENE_ID = '-9999990001'

function env(primary: string, read: string) {
  return {
    PORT: '0',
    KEYS_DIR: keysDir,
    KEYS_AUTOGENERATE: 'false',
    KEYS_WATCH: 'false',
    DATABASE_URL: primary,
    DATABASE_READ_URL: read,
    DB_CONNECT_TIMEOUT: '2',
    DB_QUERY_TIMEOUT: '5',
    AUDIT_LOG: 'stderr',
    LOG_LEVEL: 'silent',
  }
}

/** The read URL: the standby first, then the primary. */
function readUrl(): string {
  const hosts = `${pair.standby.host},${pair.primary.host}`
  return `postgres://${CLUSTER_USER}:${CLUSTER_USER}@${hosts}/${CLUSTER_DATABASE}`
}

async function search(base: string, mbi: string): Promise<{ status: number; ids: string[] }> {
  const res = await fetch(patientSearchUrl(base, await encryptMbiJwe(mbi, key)))
  const body = (await res.json()) as { entry?: { resource: { id: string } }[] }
  return { status: res.status, ids: (body.entry ?? []).map((e) => e.resource.id) }
}

/** Whether the read pool's next read runs on a server in recovery (a hot standby). */
async function readsFromStandby(g: RunningGateway = gateway): Promise<boolean> {
  return g.db.reads.read(async (sql) => {
    const [row] = await sql<{ standby: boolean }[]>`select pg_is_in_recovery() as standby`
    return row!.standby
  })
}

/** Searches, four at a time, until `during` resolves; returns every status. */
async function searchesDuring(during: Promise<unknown>): Promise<number[]> {
  const statuses: number[] = []
  let done = false
  void during.finally(() => (done = true))
  while (!done) {
    const batch = await Promise.all(
      [1, 2, 3, 4].map((i) => search(gateway.url, seededMbi(i)).then((r) => r.status)),
    )
    statuses.push(...batch)
  }
  return statuses
}

beforeAll(async () => {
  if (!enabled) return
  pair = await replicatedPair()
  work = await tempDir()
  keysDir = `${work}/keys`
  await addGeneratedKey(keysDir, 'P-256')
  gateway = await startGateway(loadConfig(env(pair.primary.url, readUrl())), log.logger)
  const primary = createSql({ url: pair.primary.url, max: 2 })
  await seed(primary, { count: 20 })
  await primary.end()
  await pair.caughtUp()
  key = chooseKey(await fetchJwks(`${gateway.url}/.well-known/jwks.json`))
}, 180_000)

afterAll(async () => {
  await gateway?.close()
  await pair?.drop()
  if (work) await rm(work, { recursive: true, force: true })
}, 120_000)

describe.runIf(
  needs(enabled, `the hot standby ${REAL_SERVER} and pg_createcluster (Debian postgresql-15)`),
)('searches on a hot standby (own primary + standby clusters)', () => {
  it('serves searches from the standby listed first', async () => {
    const found = await search(gateway.url, seededMbi(3))
    expect(found).toEqual({ status: 200, ids: [seededBeneId(3)] })
    // The standby's own view: the gateway's search ran there.
    const seen = await pair.standby.psql(
      `select count(*) from pg_stat_activity
       where application_name = 'sealed-search' and query like '%from beneficiaries%'`,
    )
    expect(Number(seen)).toBeGreaterThan(0)
    expect(await readsFromStandby()).toBe(true)
    // DB_QUERY_TIMEOUT=5 reaches the server as the search connections' statement_timeout.
    const timeout = await gateway.db.reads.read((sql) => sql`show statement_timeout`)
    expect(timeout[0]!.statement_timeout).toBe('5s')
  })

  it('finds a beneficiary written on the primary once the standby has replayed it', async () => {
    await pair.primary.psql(
      `insert into beneficiaries (bene_id, mbi_num, bene_srnm_name, bene_gvn_name,
         bene_birth_dt, bene_sex_ident_cd)
       values (${NEW_BENE_ID}, '${NEW_MBI}', 'Replayed', 'Rita', '1950-01-01', '2')`,
    )
    await pair.caughtUp()
    // Received is not yet visible: allow the standby a bounded moment to apply what it received.
    let found = await search(gateway.url, NEW_MBI)
    for (let i = 0; i < 50 && found.ids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100))
      found = await search(gateway.url, NEW_MBI)
    }
    expect(found).toEqual({ status: 200, ids: [NEW_BENE_ID] })
  })

  it('moves searches to the next listed host when the standby stops, with no 503', async () => {
    const stopping = new Promise((r) => setTimeout(r, 300))
      .then(() => pair.standby.stop())
      .then(() => new Promise((r) => setTimeout(r, 1000)))
    const statuses = await searchesDuring(stopping)
    const failed = statuses.filter((s) => s !== 200)
    process.stderr.write(
      `standby stopped: ${statuses.length} searches, ${failed.length} not 200 (${failed.join(',')})\n`,
    )
    expect(statuses.length).toBeGreaterThan(8)
    expect(failed).toEqual([])
    expect(await readsFromStandby()).toBe(false)
  })

  it('uses the standby again once it is back', async () => {
    await pair.standby.start()
    await pair.caughtUp()
    const deadline = Date.now() + 15_000
    let back = false
    while (!back && Date.now() < deadline) {
      expect((await search(gateway.url, seededMbi(5))).status).toBe(200)
      back = await readsFromStandby()
      if (!back) await new Promise((r) => setTimeout(r, 250))
    }
    expect(back).toBe(true)
  })

  it('keeps serving searches from the standby when the primary stops', async () => {
    const stopping = pair.primary.stop().then(() => new Promise((r) => setTimeout(r, 500)))
    const statuses = await searchesDuring(stopping)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    expect(await search(gateway.url, NEW_MBI)).toEqual({ status: 200, ids: [NEW_BENE_ID] })
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200)
    expect(await readsFromStandby()).toBe(true)
  })

  it('starts with the primary unreachable, checking migrations on the standby instead', async () => {
    const second = capturingLogger()
    const standbyOnly = `postgres://${CLUSTER_USER}:${CLUSTER_USER}@${pair.standby.host}/${CLUSTER_DATABASE}`
    const late = await startGateway(loadConfig(env(pair.primary.url, standbyOnly)), second.logger)
    try {
      expect(await search(late.url, seededMbi(7))).toEqual({
        status: 200,
        ids: [seededBeneId(7)],
      })
      const notice = second.lines
        .map((l) => JSON.parse(l) as { msg: string; pending?: number[] })
        .find((l) => l.msg.includes('migrations checked, not applied'))
      expect(notice?.pending).toEqual([])
    } finally {
      await late.close()
    }
  })
})
