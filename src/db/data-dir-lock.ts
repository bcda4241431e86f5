import { rmSync } from 'node:fs'
import { open, readFile, rm, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { DatabaseError } from './errors.js'
import { processRuns } from '../pid.js'

/** Beside PGlite's own files in the data directory; PGlite ignores files it does not know. */
export const LOCK_FILE = 'sealed-search.lock'

/** A lock file this old that does not parse is left over from a crash during the write. */
const UNREADABLE_STALE_MS = 10_000

interface Holder {
  pid: number
  host: string
  since: string
}

export interface DataDirLock {
  release(): Promise<void>
}

/** Directories this process holds: a second open in the same process is refused too. */
const held = new Set<string>()

async function readHolder(path: string): Promise<Holder | 'unreadable' | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as Partial<Holder>
    if (Number.isInteger(holder.pid) && typeof holder.host === 'string') return holder as Holder
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
  }
  const age = await stat(path).then(
    (s) => Date.now() - s.mtimeMs,
    () => 0,
  )
  return age > UNREADABLE_STALE_MS ? undefined : 'unreadable'
}

function inUse(dir: string, who: string): DatabaseError {
  return new DatabaseError(
    'ERR_DB_EMBEDDED_IN_USE',
    `the embedded database in ${dir} is in use by ${who}; stop it first (PGlite serves one ` +
      'process: a second one would lose rows), or set DATABASE_URL to a PostgreSQL server',
  )
}

/**
 * Takes the embedded database's directory for this process, or refuses with
 * ERR_DB_EMBEDDED_IN_USE while another live process (a gateway, a script) holds it. A lock left
 * by a process that is gone is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const dir = resolve(dataDir)
  if (held.has(dir)) throw inUse(dataDir, `this process (pid ${process.pid})`)
  const path = join(dir, LOCK_FILE)
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
  for (let attempt = 0; ; attempt++) {
    try {
      // O_CREAT | O_EXCL: of two processes starting together, exactly one creates the file.
      const file = await open(path, 'wx', 0o600)
      try {
        await file.writeFile(JSON.stringify(me) + '\n')
      } finally {
        await file.close()
      }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (attempt > 0) throw inUse(dataDir, 'another process')
    }
    const holder = await readHolder(path)
    if (holder === 'unreadable') throw inUse(dataDir, 'another process')
    if (holder && holder.host !== me.host) {
      throw inUse(dataDir, `process ${holder.pid} on ${holder.host} (remove ${path} if it is gone)`)
    }
    // Our own pid in the file is a leftover too: pid 1 in a restarted container, for instance.
    if (holder && holder.pid !== process.pid && processRuns(holder.pid)) {
      throw inUse(dataDir, `process ${holder.pid}`)
    }
    await rm(path, { force: true })
  }
  held.add(dir)
  // A process that exits without closing the database still gives the directory back.
  const onExit = () => rmSync(path, { force: true })
  process.once('exit', onExit)
  return {
    async release() {
      process.removeListener('exit', onExit)
      if (!held.delete(dir)) return
      const holder = await readHolder(path)
      if (holder && holder !== 'unreadable' && holder.pid === me.pid)
        await rm(path, { force: true })
    },
  }
}
