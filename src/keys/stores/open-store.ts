import { describeHosts } from '../../db/hosts.js'
import { readPool, type ReadHost } from '../../db/read-pool.js'
import { createSql, type Sql } from '../../db/sql.js'
import { dirKeyStore } from './dir-store.js'
import type { KeyStore, KeyStoreKind } from './key-store.js'
import { postgresKeyStore } from './pg-store.js'
import type { Pkcs11Options } from '../pkcs11/token.js'

export interface KeyStoreSettings {
  kind: KeyStoreKind
  /** The key directory (KEY_STORE=dir). */
  dir: string
  passphrase: string | undefined
  /** The token of HSM keys (PKCS11_*), when configured. */
  pkcs11?: Pkcs11Options | undefined
  /** The primary (DATABASE_URL): the postgres store reads, writes and listens there. */
  databaseUrl?: string | undefined
  databaseSchema?: string | undefined
  connectTimeoutSeconds?: number
}

export interface OpenStoreOptions {
  /** LISTEN on DATABASE_URL for changes (default true). */
  listen?: boolean
  /**
   * DATABASE_READ_URL's hosts (the gateway's own read pools): a gateway reads the ring there when
   * DATABASE_URL cannot be reached. A hot standby has no NOTIFY: from there the ring is polled.
   */
  readHosts?: readonly ReadHost[]
  /** Called when a ring read moves off a host that could not be reached (for metrics). */
  onHostDown?: (host: string) => void
}

/**
 * The store KEY_STORE names. The postgres store gets a small pool of its own on DATABASE_URL (a
 * search pool that is busy or pointed at a standby never delays a key change), and listens there.
 */
export function openKeyStore(settings: KeyStoreSettings, options: OpenStoreOptions = {}): KeyStore {
  const { passphrase, pkcs11 } = settings
  if (settings.kind === 'dir') return dirKeyStore(settings.dir, { passphrase, pkcs11 })
  const url = settings.databaseUrl
  if (!url) throw new Error('KEY_STORE=postgres needs DATABASE_URL') // config refuses this first
  const searchPath = settings.databaseSchema
  const sql: Sql = createSql({
    url,
    max: 2,
    connectTimeoutSeconds: settings.connectTimeoutSeconds ?? 5,
    maxBackoffSeconds: 1,
    ...(searchPath ? { searchPath } : {}),
  })
  // The primary first, then the read hosts, with the read pool's failover (src/db/read-pool.ts).
  const readHosts = options.readHosts ?? []
  const reads =
    readHosts.length > 0
      ? readPool([{ name: describeHosts(url), sql }, ...readHosts], {
          owned: false,
          // A host that hangs must not hold the poll: after this, the next host is read.
          attemptTimeoutMs: (settings.connectTimeoutSeconds ?? 5) * 1000,
          ...(options.onHostDown ? { onHostDown: (host) => options.onHostDown?.(host) } : {}),
        })
      : undefined
  const store = postgresKeyStore({
    sql,
    ...(reads ? { reads } : {}),
    passphrase,
    pkcs11,
    ...(options.listen === false ? {} : { listen: { url, searchPath } }),
  })
  return {
    ...store,
    async close() {
      await store.close()
      await sql.end({ timeout: 2 })
    },
  }
}
