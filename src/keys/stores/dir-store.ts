import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyStoreError } from '../errors.js'
import { withDirLock } from './dir-lock.js'
import type { KeyStore, NewKey, StoreEvents, StoreTokenOptions } from './key-store.js'
import { isSealedKeyFile, readManifest, writeManifest, type ManifestEntry } from './manifest.js'
import { afterChange, authenticity, beforeChange } from './ring-guard.js'
import { destroyHsmKey, makeHsmKey, writeHsmKey } from '../pkcs11/store.js'
import { wipeDestroyedKeyFiles } from './destroy-material.js'
import { ringVersion } from './ring-version.js'
import { watchKeyDirectory, type DirectoryWatch } from '../ring/watch.js'
import {
  checkSealingMatches,
  readPrivateKeyFile,
  writeNewKey,
  type KeyFileOptions,
  type NewKeyEntry,
} from './dir-files.js'

/**
 * KEY_STORE=dir (the default): the ring is the directory's manifest.json and private key files,
 * for one host. Changes hold the directory's lock file and write the manifest atomically.
 */
export type DirStoreOptions = KeyFileOptions & StoreTokenOptions

export function dirKeyStore(dir: string, options: DirStoreOptions = {}): KeyStore {
  // A directory of keys in clear needs no MAC: whoever can write its manifest can read its keys.
  // Once it holds a sealed key or carries a MAC, every reading and change is checked.
  const sealedRing = (keys: readonly ManifestEntry[]) =>
    keys.some((k) => k.backend !== 'pkcs11' && isSealedKeyFile(k.file))
  const macPassphrase = (m: { keys: readonly ManifestEntry[]; auth?: unknown }) =>
    m.auth !== undefined || sealedRing(m.keys) ? options.passphrase : undefined
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
      const { keys, invalid } = await manifest()
      return ringVersion(keys, invalid)
    },
    async read() {
      const read = await manifest()
      const { keys, invalid } = read
      return {
        version: ringVersion(keys, invalid),
        entries: keys,
        invalid,
        generation: read.auth?.generation ?? 0,
        authenticity: await authenticity(macPassphrase(read), {
          entries: keys,
          invalid,
          auth: read.auth,
        }),
        privateKey: (entry) => readPrivateKeyFile(dir, entry as ManifestEntry, options),
        stamp: async (entry) => {
          if (!entry.file) return undefined
          try {
            const info = await stat(join(dir, entry.file))
            return `${info.ino}:${info.mode}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`
          } catch {
            return 'missing'
          }
        },
        pkcs11: options.pkcs11,
      }
    },
    change(apply, changeOptions = {}) {
      return withDirLock(dir, async () => {
        const manifest = await readManifest(dir)
        const wasDestroyed = new Set(
          manifest.keys.filter((k) => k.state === 'destroyed').map((k) => k.kid),
        )
        const found = { entries: manifest.keys, invalid: manifest.invalid, auth: manifest.auth }
        const needsMac = manifest.auth !== undefined || sealedRing(manifest.keys)
        if (needsMac && options.passphrase === undefined && !changeOptions.revocation) {
          // Without the passphrase a change could neither seal a key nor MAC the ring.
          throw new KeyStoreError(
            'ERR_KEYS_PASSPHRASE',
            `${dir}: the key ring is sealed: set KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE`,
          )
        }
        // A revocation without the passphrase is written under the old MAC ('keep').
        const how = await beforeChange(
          macPassphrase(manifest),
          found,
          dir,
          changeOptions,
          async () => {
            for (const entry of manifest.keys) {
              if (entry.backend === 'pkcs11' || !isSealedKeyFile(entry.file)) continue
              if (['retired', 'revoked', 'destroyed'].includes(entry.state)) continue
              await readPrivateKeyFile(dir, entry, options)
            }
          },
        )
        const pick = ({ kid, crv, file, backend, pkcs11 }: NewKeyEntry): NewKey => ({
          kid,
          crv,
          file,
          ...(backend ? { backend } : {}),
          ...(pkcs11 ? { pkcs11 } : {}),
        })
        const { ring, result } = await apply(
          { entries: manifest.keys, invalid: manifest.invalid },
          {
            addKey: async (key) => {
              // Sealed or in clear as the keys already here: a forgotten passphrase never mixes them.
              checkSealingMatches(manifest, options)
              return pick(await writeNewKey(dir, key, options))
            },
            addHsmKey: async (crv, current) => {
              const key = await makeHsmKey(options.pkcs11, crv, current.entries)
              return pick(await writeHsmKey(dir, key, new Date()))
            },
          },
          new Date(), // one host: its own clock
        )
        // The whole ring, by a temporary file and a rename (writeFileAtomic).
        const sealedNow = ring.entries.some((e) => e.file && isSealedKeyFile(e.file))
        const write =
          needsMac && options.passphrase === undefined
            ? 'keep'
            : how === 'none' && options.passphrase !== undefined && sealedNow
              ? 'mac'
              : how
        const auth = await afterChange(write, options.passphrase, manifest.auth, ring)
        await writeManifest(dir, {
          version: 1,
          keys: ring.entries as ManifestEntry[],
          invalid: ring.invalid,
          ...(auth ? { auth } : {}),
        })
        // The state is recorded first: a crash here leaves a destroyed key's file, which doctor
        // reports and the next change (a sweep, destroy again) removes.
        await wipeDestroyedKeyFiles(dir, ring.entries)
        for (const k of ring.entries) {
          if (k.state === 'destroyed' && k.backend === 'pkcs11' && !wasDestroyed.has(k.kid)) {
            await destroyHsmKey(k, options.pkcs11)
          }
        }
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
