import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { tempDir } from './temp.js'

export { tempDir }

/** A key directory holding one active P-256 key and one active X25519 key, and its ring. */
export async function twoKeyRing(): Promise<{ dir: string; ring: KeyRing }> {
  const dir = await tempDir('sealed-keys-')
  await addGeneratedKey(dir, 'P-256')
  await addGeneratedKey(dir, 'X25519')
  return { dir, ring: await loadKeyRing(dir) }
}
