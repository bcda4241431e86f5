import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needs, REAL_SERVER } from '../support/needs.js'
import { isUnavailable } from '../../src/db/errors.js'
import { readPool, type ReadPool } from '../../src/db/read-pool.js'
import { createSql, type Sql } from '../../src/db/sql.js'
import { realServer } from '../support/db.js'
import { faultProxy } from '../support/proxy.js'
import { stoppableProxy, type StoppableProxy } from '../support/stoppable-proxy.js'

// Two hosts in front of one real server (DATABASE_URL): each is a proxy the test cuts off and
// brings back. Skipped on the embedded database, which serves one connection only.
const url = process.env.DATABASE_URL

let first: StoppableProxy
let second: StoppableProxy
let sqlFirst: Sql
let sqlSecond: Sql
let timed: Sql
let pool: ReadPool
const down: string[] = []
const RETRY_AFTER_MS = 300

function via(proxy: StoppableProxy): string {
  const u = new URL(url!)
  u.hostname = '127.0.0.1'
  u.port = String(proxy.port)
  return u.toString()
}

/** Which host a read ran on, and its answer. */
async function whichHost(): Promise<string> {
  return pool.read(async (sql) => {
    await sql`select 1`
    return sql === sqlFirst ? 'first' : 'second'
  })
}

beforeAll(async () => {
  if (!realServer) return
  const target = new URL(url!)
  first = await stoppableProxy(target.hostname, Number(target.port))
  second = await stoppableProxy(target.hostname, Number(target.port))
  sqlFirst = createSql({ url: via(first), max: 2, connectTimeoutSeconds: 1 })
  sqlSecond = createSql({ url: via(second), max: 2, connectTimeoutSeconds: 1 })
  pool = readPool(
    [
      { name: 'first', sql: sqlFirst },
      { name: 'second', sql: sqlSecond },
    ],
    { retryAfterMs: RETRY_AFTER_MS, onHostDown: (host) => down.push(host) },
  )
  timed = createSql({ url: url!, max: 1, statementTimeoutMs: 300 })
})
afterAll(async () => {
  await pool?.close()
  await timed?.end({ timeout: 1 })
  await first?.close()
  await second?.close()
})

describe.runIf(needs(realServer, `the read pool behind two proxies ${REAL_SERVER}`))(
  'the read pool (PostgreSQL server behind two proxies)',
  () => {
    it('reads from the first host listed while it answers', async () => {
      expect(await whichHost()).toBe('first')
      expect(await whichHost()).toBe('first')
      expect(down).toEqual([])
    })

    it('moves a read to the next host, without an error, when the first refuses connections (stopped)', async () => {
      await first.stop()
      const hosts = await Promise.all(Array.from({ length: 6 }, () => whichHost()))
      expect(hosts).toEqual(Array(6).fill('second'))
      expect(down).toContain('first')
    })

    it('passes over the host that went down, then uses it again once it is back', async () => {
      const before = down.length
      expect(await whichHost()).toBe('second')
      expect(down.length).toBe(before) // not tried again within the pause
      await first.start()
      await new Promise((r) => setTimeout(r, RETRY_AFTER_MS + 50))
      expect(await whichHost()).toBe('first')
    })

    it('fails with "unavailable" when no host can be reached', async () => {
      await first.stop()
      await second.stop()
      const error = await whichHost().catch((e: unknown) => e)
      expect(isUnavailable(error)).toBe(true)
      await first.start()
      await second.start()
    })

    it('does not retry an error that is not about reaching the host', async () => {
      await new Promise((r) => setTimeout(r, RETRY_AFTER_MS + 50))
      let calls = 0
      const error = await pool
        .read((sql) => {
          calls++
          return sql`select * from no_such_table_here`
        })
        .catch((e: unknown) => e)
      expect((error as { code?: string }).code).toBe('42P01')
      expect(calls).toBe(1)
    })
  },
)

describe.runIf(needs(realServer, `DB_QUERY_TIMEOUT as statement_timeout ${REAL_SERVER}`))(
  'DB_QUERY_TIMEOUT as statement_timeout (PostgreSQL server)',
  () => {
    it('has the server cancel a query that runs too long, and the connection serves again', async () => {
      const [own] = await timed<{ pid: number }[]>`select pg_backend_pid() as pid`
      const pid = own!.pid
      const started = performance.now()
      const error = await timed`select pg_sleep(5)`.catch((e: unknown) => e)
      const took = performance.now() - started
      // 57014 query_canceled, "canceling statement due to statement timeout": the server gave up.
      expect((error as { code?: string }).code).toBe('57014')
      expect(took).toBeLessThan(4000)
      const observer = createSql({ url: url!, max: 1 })
      try {
        const running = await observer`
        select count(*)::int as n from pg_stat_activity
        where pid = ${pid} and state = 'active'`
        expect(running[0]!.n).toBe(0)
      } finally {
        await observer.end()
      }
      const [again] = await timed<{ pid: number }[]>`select pg_backend_pid() as pid`
      expect(again!.pid).toBe(pid)
    })

    it('is not retried on another host: a slow query would only be slow twice', async () => {
      let calls = 0
      const slow = readPool([{ name: 'only', sql: timed }], { owned: false })
      const error = await slow
        .read((sql) => {
          calls++
          return sql`select pg_sleep(5)`
        })
        .catch((e: unknown) => e)
      expect((error as { code?: string }).code).toBe('57014')
      expect(calls).toBe(1)
    })

    it('with attemptTimeoutMs, moves a read off a host that never answers, and passes it over while that read hangs', async () => {
      const target = new URL(url!)
      const silent = await faultProxy(target.hostname, Number(target.port))
      silent.setMode('blackhole')
      const u = new URL(url!)
      u.hostname = '127.0.0.1'
      u.port = String(silent.port)
      const hangs = createSql({ url: u.toString(), max: 1, connectTimeoutSeconds: 5 })
      const answers = createSql({ url: url!, max: 1 })
      const moved: string[] = []
      const tried: string[] = []
      const guarded = readPool(
        [
          { name: 'hangs', sql: hangs },
          { name: 'answers', sql: answers },
        ],
        {
          attemptTimeoutMs: 300,
          retryAfterMs: 50,
          owned: false,
          onHostDown: (host) => moved.push(host),
        },
      )
      const read = () =>
        guarded.read(async (sql) => {
          tried.push(sql === hangs ? 'hangs' : 'answers')
          await sql`select 1`
          return sql === hangs ? 'hangs' : 'answers'
        })
      try {
        expect(await read()).toBe('answers')
        expect(moved).toEqual(['hangs'])
        // Past the pause, the host still holds the first read: it is not given another one.
        await new Promise((r) => setTimeout(r, 100))
        expect(await read()).toBe('answers')
        expect(await read()).toBe('answers')
        expect(tried).toEqual(['hangs', 'answers', 'answers', 'answers'])
      } finally {
        await Promise.all([hangs.end({ timeout: 0 }), answers.end({ timeout: 0 })])
        await silent.close()
      }
    })
  },
)
