/**
 * A key ring following a key directory, as the gateway runs it (KEY_STORE=dir): for tests of
 * reloads, revocation and the directory watch.
 */
import { dirKeyStore, type DirStoreOptions } from '../../src/keys/stores/dir-store.js'
import {
  followKeyStore,
  type FollowOptions,
  type FollowingKeyRing,
} from '../../src/keys/ring/follow.js'

export interface FollowingDir extends FollowingKeyRing {
  /** Stops following and closes the store. */
  stop(): Promise<void>
}

/** Follows `dir`: no poll and no watch unless asked, so each test drives its reloads. */
export async function followDir(
  dir: string,
  options: Partial<FollowOptions> & Pick<FollowOptions, 'logger'> & { store?: DirStoreOptions },
): Promise<FollowingDir> {
  const store = dirKeyStore(dir, options.store ?? {})
  const ring = await followKeyStore(store, { pollIntervalMs: 0, subscribe: false, ...options })
  return {
    ...ring,
    async stop() {
      await ring.close()
      await store.close()
    },
  }
}
