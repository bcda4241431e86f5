import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

/**
 * PostgreSQL 15 clusters of a test's own, made with Debian's cluster tools (postgresql-common):
 * a primary and a streaming hot standby on free loopback ports, so that a test can stop and
 * start them without touching the machine's main cluster, which other test files use.
 * Needs root (as CI runs) and the postgresql-15 package.
 */

const run = promisify(execFile)
const VERSION = '15'
const SOCKETS = '/var/run/postgresql'
/** Role and database the gateway uses on the test's clusters. */
export const CLUSTER_USER = 'sealed_ci'
const PASSWORD = 'sealed_ci'
export const CLUSTER_DATABASE = 'sealed'

/** Whether this machine can make clusters: root, and Debian's PostgreSQL 15 tools present. */
export const canMakeClusters =
  process.getuid?.() === 0 &&
  existsSync('/usr/bin/pg_createcluster') &&
  existsSync(`/usr/lib/postgresql/${VERSION}/bin/pg_basebackup`)

export interface Cluster {
  name: string
  port: number
  /** `127.0.0.1:port`, as a connection string names it. */
  host: string
  /** A connection string for the gateway's role and database on this cluster only. */
  url: string
  start(): Promise<void>
  /** Fast shutdown: connections are ended, as when a host is taken out of service. */
  stop(): Promise<void>
  /** Runs SQL as the postgres superuser over the local socket; returns psql's unaligned output. */
  psql(sql: string, database?: string): Promise<string>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function asPostgres(command: string, args: string[]) {
  return run('runuser', ['-u', 'postgres', '--', command, ...args], { timeout: 120_000 })
}

async function waitReady(port: number): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      await run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', String(port)])
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((r) => setTimeout(r, 200))
    }
  }
}

function cluster(name: string, port: number): Cluster {
  const host = `127.0.0.1:${port}`
  return {
    name,
    port,
    host,
    url: `postgres://${CLUSTER_USER}:${PASSWORD}@${host}/${CLUSTER_DATABASE}`,
    async start() {
      await run('pg_ctlcluster', [VERSION, name, 'start'], { timeout: 120_000 })
      await waitReady(port)
    },
    async stop() {
      await run('pg_ctlcluster', [VERSION, name, 'stop', '-m', 'fast'], { timeout: 120_000 })
    },
    async psql(sql, database = CLUSTER_DATABASE) {
      const { stdout } = await asPostgres('psql', [
        '-h',
        SOCKETS,
        '-p',
        String(port),
        '-d',
        database,
        '-XAtq',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        sql,
      ])
      return stdout.trim()
    },
  }
}

/** Settings that keep two small test clusters light on a shared machine. */
const SETTINGS = [
  'max_connections=40',
  'shared_buffers=16MB',
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'wal_level=replica',
  'max_wal_senders=4',
  'hot_standby=on',
  'wal_receiver_status_interval=1s',
]

export interface ReplicatedPair {
  primary: Cluster
  standby: Cluster
  /** Resolves once the standby has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>
  /** Stops and drops both clusters. */
  drop(): Promise<void>
}

/**
 * A primary with the gateway's role and database, and a hot standby made from it with
 * `pg_basebackup -R` (streaming replication over the local socket, peer authentication as the
 * postgres user, which Debian's pg_hba.conf allows for replication). Both are running.
 */
export async function replicatedPair(): Promise<ReplicatedPair> {
  const tag = `sealed_${process.pid}_${randomBytes(3).toString('hex')}`
  const primary = cluster(`${tag}_p`, await freePort())
  const standby = cluster(`${tag}_s`, await freePort())
  const made: Cluster[] = []
  const drop = async () => {
    for (const c of made.reverse()) {
      await run('pg_dropcluster', [VERSION, c.name, '--stop'], { timeout: 120_000 }).catch(() => {})
    }
  }
  try {
    const options = SETTINGS.flatMap((s) => ['-o', s])
    made.push(primary)
    await run(
      'pg_createcluster',
      [VERSION, primary.name, '-p', String(primary.port), ...options, '--start'],
      { timeout: 120_000 },
    )
    await waitReady(primary.port)
    await primary.psql(`create role ${CLUSTER_USER} login password '${PASSWORD}'`, 'postgres')
    await primary.psql(`create database ${CLUSTER_DATABASE} owner ${CLUSTER_USER}`, 'postgres')
    made.push(standby)
    await run('pg_createcluster', [VERSION, standby.name, '-p', String(standby.port), ...options], {
      timeout: 120_000,
    })
    const dataDir = `/var/lib/postgresql/${VERSION}/${standby.name}`
    await run('find', [dataDir, '-mindepth', '1', '-delete'])
    await asPostgres(`/usr/lib/postgresql/${VERSION}/bin/pg_basebackup`, [
      '-h',
      SOCKETS,
      '-p',
      String(primary.port),
      '-D',
      dataDir,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
    ])
    await standby.start()
  } catch (error) {
    await drop()
    throw error
  }
  return {
    primary,
    standby,
    async caughtUp() {
      const target = await primary.psql('select pg_current_wal_lsn()', 'postgres')
      const deadline = Date.now() + 30_000
      for (;;) {
        const behind = await standby.psql(
          `select pg_last_wal_replay_lsn() < '${target}'::pg_lsn`,
          'postgres',
        )
        if (behind === 'f') return
        if (Date.now() > deadline) throw new Error('the standby did not catch up in 30 s')
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    drop,
  }
}
