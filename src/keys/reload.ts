import { watch, type FSWatcher } from 'node:fs'
import type { Logger } from '../log/logger.js'
import { loadKeyRing, type KeyRing, type KeyRingSource } from './keyring.js'
import type { KeyFileOptions } from './store.js'

export interface ReloadingKeyRing extends KeyRingSource {
  /** Loads the directory again; resolves true when the ring was replaced. */
  reload(reason: string): Promise<boolean>
  close(): void
}

export interface ReloadOptions extends KeyFileOptions {
  logger: Logger
  /** Watch the directory and reload on change (default true). SIGHUP calls reload() too. */
  watch?: boolean
  /** Called with each new ring, e.g. to update metrics. */
  onReload?: (ring: KeyRing) => void
}

/**
 * A key ring that follows its directory. A new ring replaces the old one in a single assignment,
 * so a request decides with one ring from start to end. A directory that fails to load (a broken
 * manifest, a key file with loose permissions) never replaces a good ring: the error is logged
 * and the last good ring keeps serving.
 */
export async function reloadingKeyRing(
  dir: string,
  options: ReloadOptions,
): Promise<ReloadingKeyRing> {
  const { logger, passphrase } = options
  let ring = await loadKeyRing(dir, { passphrase })
  let running: Promise<boolean> | undefined
  let again = false

  const loadOnce = async (reason: string): Promise<boolean> => {
    try {
      const next = await loadKeyRing(dir, { passphrase })
      ring = next
      options.onReload?.(next)
      logger.info(
        { reason, keys: next.keys.map((k) => ({ kid: k.kid, crv: k.crv, state: k.state })) },
        'key ring reloaded',
      )
      return true
    } catch (error) {
      const e = error as { code?: string; message?: string }
      logger.error(
        { reason, code: e.code, error: e.message },
        'key ring reload failed; keeping the last good ring',
      )
      return false
    }
  }

  // One load at a time; changes that arrive during a load cause exactly one more.
  const reload = (reason: string): Promise<boolean> => {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      let ok = await loadOnce(reason)
      while (again) {
        again = false
        ok = await loadOnce(reason)
      }
      running = undefined
      return ok
    })()
    return running
  }

  let watcher: FSWatcher | undefined
  let timer: NodeJS.Timeout | undefined
  if (options.watch !== false) {
    watcher = watch(dir, { persistent: false }, (_event, file) => {
      // Temporary files of an atomic write and the published JWKS do not change the ring.
      if (file && (file.endsWith('.tmp') || file === 'jwks.json')) return
      clearTimeout(timer)
      timer = setTimeout(() => void reload('file change'), 25)
    })
    watcher.on('error', (error) =>
      logger.error({ error: error.message }, 'key directory watch failed'),
    )
  }

  return {
    current: () => ring,
    reload,
    close() {
      clearTimeout(timer)
      watcher?.close()
    },
  }
}
