import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyStoreError } from './errors.js'
import { generateKey, type Curve, type PrivateJwk } from './jwk.js'
import {
  privateKeyFileName,
  readManifest,
  writeFileAtomic,
  writeManifest,
  type ManifestEntry,
} from './manifest.js'

/** Generates a key, writes its private JWK with mode 0600 and records it as active. */
export async function addGeneratedKey(dir: string, crv: Curve, now = new Date()) {
  await mkdir(dir, { recursive: true })
  const key = await generateKey(crv)
  const file = privateKeyFileName(key.kid)
  await writeFileAtomic(join(dir, file), JSON.stringify(key) + '\n', 0o600)
  const manifest = await readManifest(dir)
  const entry: ManifestEntry = {
    kid: key.kid,
    crv,
    state: 'active',
    created: now.toISOString(),
    notAfter: null,
    file,
  }
  manifest.keys.push(entry)
  await writeManifest(dir, manifest)
  return entry
}

/**
 * Reads a private JWK file. As ssh does, refuses a file that the group or others may read,
 * naming the file (never its content).
 */
export async function readPrivateKeyFile(dir: string, entry: ManifestEntry): Promise<PrivateJwk> {
  const path = join(dir, entry.file)
  let info
  try {
    info = await stat(path)
  } catch (cause) {
    throw new KeyStoreError('ERR_KEYS_FILE_MISSING', `${path}: missing`, { cause })
  }
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8)
    throw new KeyStoreError(
      'ERR_KEYS_FILE_PERMISSIONS',
      `${path}: permissions ${mode} are too open; the file must not be readable by group or others (chmod 600)`,
    )
  }
  let jwk: PrivateJwk
  try {
    jwk = JSON.parse(await readFile(path, 'utf8')) as PrivateJwk
  } catch (cause) {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${path}: not a JSON JWK`, { cause })
  }
  if (jwk === null || typeof jwk !== 'object' || typeof jwk.d !== 'string') {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${path}: not a private JWK`)
  }
  if (jwk.kid !== entry.kid || jwk.crv !== entry.crv) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${path}: kid or crv differs from manifest`)
  }
  return jwk
}
