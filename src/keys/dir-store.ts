import { watch } from 'node:fs'
import { withDirLock, LOCK_FILE } from './dir-lock.js'
import type { KeyEntry, KeyStore, StoreEvents } from './key-store.js'
import { readManifest, writeManifest, type ManifestEntry } from './manifest.js'
import { ringVersion } from './ring-version.js'
import { settle } from './staging.js'
import {
  checkSealingMatches,
  readPrivateKeyFile,
  withHpkeKeyId,
  writeNewKey,
  type KeyFileOptions,
} from './store.js'

/**
 * KEY_STORE=dir (the default): the ring is the directory's manifest.json and private key files,
 * for one host. Changes hold the directory's lock file and write the manifest atomically.
 */
export function dirKeyStore(dir: string, options: KeyFileOptions = {}): KeyStore {
  return {
    kind: 'dir',
    location: dir,
    async version() {
      return ringVersion((await readManifest(dir)).keys)
    },
    async read() {
      const { keys } = await readManifest(dir)
      return {
        version: ringVersion(keys),
        entries: keys,
        privateKey: (entry) => readPrivateKeyFile(dir, entry as ManifestEntry, options),
      }
    },
    change(apply, now = new Date()) {
      return withDirLock(dir, async () => {
        const manifest = await readManifest(dir)
        settle(manifest.keys, now)
        const result = await apply({
          entries: manifest.keys as KeyEntry[],
          addKey: async (key, at) => {
            // Sealed or in clear as the keys already here: a forgotten passphrase never mixes them.
            checkSealingMatches(manifest, options)
            return withHpkeKeyId(await writeNewKey(dir, key, options, at), manifest)
          },
        })
        await writeManifest(dir, manifest)
        return result
      })
    },
    async subscribe(events: StoreEvents) {
      const watcher = watch(dir, { persistent: false }, (_event, file) => {
        // Temporary files of an atomic write, the lock and the published JWKS change nothing.
        if (file && (file.endsWith('.tmp') || file === 'jwks.json' || file === LOCK_FILE)) return
        events.changed('file change')
      })
      watcher.on('error', (error) => events.lost(error))
      return {
        async close() {
          watcher.close()
        },
      }
    },
    async close() {},
  }
}
