import { readManifest } from './manifest.js'
import { addGeneratedKey } from './store.js'

/** On a fresh checkout: make one P-256 development key when the directory lists none. */
export async function ensureDevelopmentKey(dir: string): Promise<string | undefined> {
  const manifest = await readManifest(dir)
  if (manifest.keys.length > 0) return undefined
  const entry = await addGeneratedKey(dir, 'P-256')
  return entry.kid
}
