import { SpanKind } from '@opentelemetry/api'
import type { ReadPool } from '../db/read-pool.js'
import { inSpan, type Tracer } from '../tracing/span.js'
import type { Database } from './deps.js'
import { read } from './read.js'

/** What a database span says: the system and the operation, never the query's parameters. */
const DB_READ = {
  kind: SpanKind.CLIENT,
  attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT' },
}

/** The search's database with one span per read (a retry on the next host stays inside it). */
export function tracedDatabase(db: Database, tracer: Tracer): ReadPool {
  const hosts = 'hosts' in db ? db.hosts : []
  return {
    hosts,
    read: (work) => inSpan(tracer, 'db.read', DB_READ, () => read(db, work)),
    close: async () => {},
  }
}
