import type { ReadPool } from '../db/read-pool.js'
import type { Sql } from '../db/sql.js'
import type { Database } from './deps.js'

function isReadPool(db: Database): db is ReadPool {
  return typeof (db as Partial<ReadPool>).read === 'function' && 'hosts' in db
}

/**
 * Runs one read: on a read pool, on its first host that answers (once more on the next when the
 * host went away); on a plain pool, as it is.
 */
export function read<T>(db: Database, work: (sql: Sql) => Promise<T>): Promise<T> {
  return isReadPool(db) ? db.read(work) : work(db)
}
