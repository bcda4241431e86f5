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

/**
 * The store KEY_STORE names. The postgres store gets a small pool of its own on DATABASE_URL (a
 * search pool that is busy or pointed at a standby never delays a key change), and listens there.
 */
export function openKeyStore(
  settings: KeyStoreSettings,
  options: { listen?: boolean } = {},
): KeyStore {
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
  const store = postgresKeyStore({
    sql,
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
