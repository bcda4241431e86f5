import { readManifest } from './manifest.js'
import { addGeneratedKey, type KeyFileOptions } from './store.js'

/**
 * On a fresh checkout: make one P-256 development key when the directory lists none, sealed
 * with the passphrase when one is configured.
 */
export async function ensureDevelopmentKey(
  dir: string,
  options: KeyFileOptions = {},
): Promise<string | undefined> {
  const manifest = await readManifest(dir)
  if (manifest.keys.length > 0) return undefined
  const entry = await addGeneratedKey(dir, 'P-256', new Date(), options)
  return entry.kid
}
