import { KeyStoreError } from '../errors.js'
import { generateStoredKey, type KeyAlgorithm } from '../jwk.js'
import { readManifest, writeManifest, type ManifestEntry } from '../stores/manifest.js'
import {
  checkSealingMatches,
  withHpkeKeyId,
  writeNewKey,
  type KeyFileOptions,
} from '../stores/dir-files.js'

/**
 * Key lifecycle commands. Each reads the manifest, changes it in memory and writes it back
 * atomically; a running gateway sees the old manifest or the new one, never a mix. None of them
 * touches the database: the cost of a rotation does not depend on the number of beneficiaries.
 */

function find(keys: ManifestEntry[], kid: string): ManifestEntry {
  const entry = keys.find((k) => k.kid === kid)
  if (!entry) throw new KeyStoreError('ERR_KEYS_UNKNOWN_KID', `no key with kid ${kid}`)
  return entry
}

export interface RotateResult {
  added: ManifestEntry
  retiring: ManifestEntry[]
}

/**
 * Adds a new active key of `crv`; every other active key of that curve becomes `retiring`,
 * still accepted until now + grace, so tokens made from a cached JWKS keep working.
 */
export async function rotate(
  dir: string,
  crv: KeyAlgorithm,
  graceSeconds: number,
  options: KeyFileOptions = {},
  now = new Date(),
): Promise<RotateResult> {
  const manifest = await readManifest(dir)
  checkSealingMatches(manifest, options)
  const previous = manifest.keys.filter((k) => k.state === 'active' && k.crv === crv)
  const added = withHpkeKeyId(
    await writeNewKey(dir, await generateStoredKey(crv), options, now),
    manifest,
  )
  const notAfter = new Date(now.getTime() + graceSeconds * 1000).toISOString()
  for (const k of previous) {
    k.state = 'retiring'
    k.notAfter = notAfter
  }
  manifest.keys.push(added)
  await writeManifest(dir, manifest)
  return { added, retiring: previous }
}

/**
 * Retires a key: it is no longer published nor accepted. Refuses to retire the last active key
 * unless `force`, since partners would have nothing to encrypt to.
 */
export async function retire(dir: string, kid: string, force = false): Promise<ManifestEntry> {
  const manifest = await readManifest(dir)
  const entry = find(manifest.keys, kid)
  if (entry.state === 'revoked' || entry.state === 'destroyed') {
    const { state } = entry
    throw new KeyStoreError('ERR_KEYS_STATE', `${kid} is ${state}; a ${state} key stays ${state}`)
  }
  const othersActive = manifest.keys.some((k) => k.kid !== kid && k.state === 'active')
  if (entry.state === 'active' && !othersActive && !force) {
    throw new KeyStoreError(
      'ERR_KEYS_STATE',
      `${kid} is the only active key; rotate first, or pass --force to leave no active key`,
    )
  }
  entry.state = 'retired'
  entry.notAfter = entry.notAfter ?? new Date().toISOString()
  await writeManifest(dir, manifest)
  return entry
}

/** Revokes a key at once (the compromised-key path): rejected from the next request on. */
export async function revoke(dir: string, kid: string, now = new Date()): Promise<ManifestEntry> {
  const manifest = await readManifest(dir)
  const entry = find(manifest.keys, kid)
  if (entry.state === 'destroyed') {
    throw new KeyStoreError(
      'ERR_KEYS_STATE',
      `${kid} is destroyed; a destroyed key stays destroyed`,
    )
  }
  entry.state = 'revoked'
  entry.notAfter = now.toISOString()
  await writeManifest(dir, manifest)
  return entry
}
