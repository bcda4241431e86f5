import type { KeyAlgorithm } from '../jwk.js'
import { dirKeyStore } from '../stores/dir-store.js'
import type { KeyFileOptions } from '../stores/dir-files.js'
import type { KeyEntry } from '../stores/key-store.js'
import { ensureKeyInStore, generateInStore } from './custody.js'

export { DEVELOPMENT_CURVES } from './development.js'

/**
 * On a fresh checkout: make the development keys when the directory lists none, sealed with the
 * passphrase when one is configured; their kids.
 */
export async function ensureDevelopmentKeys(
  dir: string,
  options: KeyFileOptions = {},
): Promise<string[]> {
  return (await ensureKeyInStore(dirKeyStore(dir, options))).map((k) => k.kid)
}

/** Generates a key in a key directory, active at once (a one-host ring, tests, benchmarks). */
export function addGeneratedKey(
  dir: string,
  crv: KeyAlgorithm,
  now = new Date(),
  options: KeyFileOptions = {},
): Promise<KeyEntry & { file: string }> {
  return generateInStore(dirKeyStore(dir, options), crv, 0, now) as Promise<
    KeyEntry & { file: string }
  >
}
