import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { lockDataDir, type DataDirLock } from './data-dir-lock.js'
import { ownerOnlyDataDir, tightenModes } from './data-dir-mode.js'

export interface EmbeddedDatabase {
  /** A postgres:// URL on loopback: the gateway reaches PGlite through the same client as production. */
  url: string
  close(): Promise<void>
}

/**
 * Starts PGlite (PostgreSQL compiled to WebAssembly) behind a PostgreSQL wire-protocol socket on
 * 127.0.0.1. `dataDir` undefined keeps the database in memory (tests). A data directory is
 * opened by one process at a time (PGlite is single-user: two processes on the same files lose
 * rows and corrupt it), so a second gateway or script is refused with ERR_DB_EMBEDDED_IN_USE;
 * its files are owner-only.
 */
export async function startEmbeddedDatabase(dataDir?: string): Promise<EmbeddedDatabase> {
  let lock: DataDirLock | undefined
  if (dataDir) {
    await ownerOnlyDataDir(dataDir)
    lock = await lockDataDir(dataDir)
  }
  try {
    const db = await PGlite.create(dataDir)
    if (dataDir) await tightenModes(dataDir)
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 })
    await server.start()
    // getServerConn() answers "host:port" with the port the system assigned.
    return {
      url: `postgres://postgres@${server.getServerConn()}/postgres`,
      async close() {
        try {
          await server.stop()
          await db.close()
        } finally {
          await lock?.release()
        }
      },
    }
  } catch (error) {
    await lock?.release()
    throw error
  }
}
