import type { KeyAlgorithm } from '../jwk.js'
import { readManifest } from '../stores/manifest.js'
import { addGeneratedKey, type KeyFileOptions } from '../stores/dir-files.js'

/**
 * The development ring: one P-256 key (every partner JOSE stack, and cloud KMSs, support it), one
 * X25519 key (the short HPKE token, about 91 characters) and one X-Wing key (the hybrid
 * post-quantum HPKE token, about 1,550). Production chooses its curves.
 */
export const DEVELOPMENT_CURVES: readonly KeyAlgorithm[] = ['P-256', 'X25519', 'X-Wing']

/**
 * On a fresh checkout: make the development keys when the directory lists none, sealed with the
 * passphrase when one is configured; their kids.
 */
export async function ensureDevelopmentKeys(
  dir: string,
  options: KeyFileOptions = {},
): Promise<string[]> {
  const manifest = await readManifest(dir)
  if (manifest.keys.length > 0) return []
  const kids: string[] = []
  for (const crv of DEVELOPMENT_CURVES) {
    kids.push((await addGeneratedKey(dir, crv, new Date(), options)).kid)
  }
  return kids
}
