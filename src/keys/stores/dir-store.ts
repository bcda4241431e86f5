import { withDirLock } from './dir-lock.js'
import type { KeyEntry, KeyStore, StoreEvents, StoreTokenOptions } from './key-store.js'
import { readManifest, writeManifest, type ManifestEntry } from './manifest.js'
import { makeHsmKey, writeHsmKey } from '../pkcs11/store.js'
import { ringVersion } from '../ring/ring-version.js'
import { settle } from '../custody/staging.js'
import { watchKeyDirectory, type DirectoryWatch } from '../ring/watch.js'
import {
  checkSealingMatches,
  readPrivateKeyFile,
  withHpkeKeyId,
  writeNewKey,
  type KeyFileOptions,
} from './dir-files.js'

/**
 * KEY_STORE=dir (the default): the ring is the directory's manifest.json and private key files,
 * for one host. Changes hold the directory's lock file and write the manifest atomically.
 */
export type DirStoreOptions = KeyFileOptions & StoreTokenOptions

export function dirKeyStore(dir: string, options: DirStoreOptions = {}): KeyStore {
  // Once a manifest has been read, its absence is a failure (the directory is being replaced),
  // never an empty ring: a follower keeps the ring it has.
  let seen = false
  // The directory watch of subscribe(), re-armed from each version poll.
  let watcher: DirectoryWatch | undefined
  const manifest = async () => {
    const read = await readManifest(dir, { required: seen })
    if (read.keys.length > 0) seen = true
    return read
  }
  return {
    kind: 'dir',
    location: dir,
    async version() {
      await watcher?.rearm()
      return ringVersion((await manifest()).keys)
    },
    async read() {
      const { keys } = await manifest()
      return {
        version: ringVersion(keys),
        entries: keys,
        privateKey: (entry) => readPrivateKeyFile(dir, entry as ManifestEntry, options),
        pkcs11: options.pkcs11,
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
          addHsmKey: async (crv, at) => {
            const key = await makeHsmKey(options.pkcs11, crv, manifest.keys)
            return withHpkeKeyId(await writeHsmKey(dir, key, at), manifest)
          },
        })
        await writeManifest(dir, manifest)
        return result
      })
    },
    async subscribe(events: StoreEvents) {
      // Survives the directory being replaced (mv, an orchestrator's ..data symlink swap).
      const watch = watchKeyDirectory(dir, (reason) => events.changed(reason), {
        onWatchError: (error) => events.lost(error),
      })
      watcher = watch
      return {
        async close() {
          watch.close()
          if (watcher === watch) watcher = undefined
        },
      }
    },
    async close() {},
  }
}
