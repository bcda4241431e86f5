import type { Config } from '../../config/types.js'
import type { KeyStore } from './key-store.js'
import { openKeyStore, type OpenStoreOptions } from './open-store.js'

/** The key store KEY_STORE names, as the gateway and the key commands open it. */
export function gatewayKeyStore(config: Config, options: OpenStoreOptions = {}): KeyStore {
  return openKeyStore(
    {
      kind: config.keys.store,
      dir: config.keys.dir,
      passphrase: config.keys.passphrase,
      pkcs11: config.keys.pkcs11,
      databaseUrl: config.db.url,
      databaseSchema: config.db.schema,
      connectTimeoutSeconds: config.db.connectTimeoutSeconds,
    },
    options,
  )
}
