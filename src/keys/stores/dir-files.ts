import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyStoreError } from '../errors.js'
import { algorithmOf, hasPrivateMember, type StoredJwk } from '../jwk.js'
import {
  isSealedKeyFile,
  privateKeyFileName,
  writeFileAtomic,
  type Manifest,
  type ManifestEntry,
} from './manifest.js'
import { openPrivateJwk, sealPrivateJwk } from './protect.js'

export interface KeyFileOptions {
  /** When set, private keys are written sealed with it and sealed files are opened with it. */
  passphrase?: string | undefined
}

/** A manifest entry before the ring gives it an HPKE key id (custody/change.ts). */
export type NewKeyEntry = Omit<ManifestEntry, 'hpkeKeyId'>

/** Writes a new private key with mode 0600 (sealed when a passphrase is given); returns its entry. */
export async function writeNewKey(
  dir: string,
  key: StoredJwk,
  options: KeyFileOptions = {},
  now = new Date(),
): Promise<NewKeyEntry> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const sealed = options.passphrase !== undefined
  const file = privateKeyFileName(key.kid, sealed)
  const json = JSON.stringify(key) + '\n'
  const content = sealed ? (await sealPrivateJwk(json, options.passphrase!)) + '\n' : json
  await writeFileAtomic(join(dir, file), content, 0o600)
  return {
    kid: key.kid,
    crv: algorithmOf(key)!,
    state: 'active',
    created: now.toISOString(),
    notAfter: null,
    file,
  }
}

/**
 * A directory holds sealed keys or keys in clear, never both: a command that would add one kind
 * beside the other refuses, so a forgotten KEYS_PASSPHRASE never leaves a clear key among sealed
 * ones. Retired and revoked keys do not count (their files may be gone).
 */
export function checkSealingMatches(manifest: Manifest, options: KeyFileOptions): void {
  const sealed = options.passphrase !== undefined
  const other = manifest.keys.find(
    (k) =>
      (k.state === 'active' || k.state === 'retiring') &&
      k.backend !== 'pkcs11' && // in a token: no key file at all
      isSealedKeyFile(k.file) !== sealed,
  )
  if (!other) return
  throw new KeyStoreError(
    'ERR_KEYS_SEALING_MIXED',
    sealed
      ? `key ${other.kid} is in clear and a passphrase is set: this directory holds keys in clear; to seal keys, make them in a new directory and point KEYS_DIR at it`
      : `key ${other.kid} is sealed: set KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE, so the new key is sealed too`,
  )
}

/** Refuses, as ssh does, a private key file that the group or others may read. */
export async function checkKeyFileMode(path: string): Promise<void> {
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
}

/** Reads a private JWK file, naming the file (never its content) in any error. */
export async function readPrivateKeyFile(
  dir: string,
  entry: ManifestEntry,
  options: KeyFileOptions = {},
): Promise<StoredJwk> {
  const path = join(dir, entry.file)
  await checkKeyFileMode(path)
  let text = await readFile(path, 'utf8')
  if (isSealedKeyFile(entry.file)) {
    if (options.passphrase === undefined) {
      throw new KeyStoreError(
        'ERR_KEYS_PASSPHRASE',
        `${path}: the key is passphrase-protected; set KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE`,
      )
    }
    text = await openPrivateJwk(text, options.passphrase, path)
  }
  let jwk: StoredJwk
  try {
    jwk = JSON.parse(text) as StoredJwk
  } catch (cause) {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${path}: not a JSON JWK`, { cause })
  }
  if (!hasPrivateMember(jwk)) {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${path}: not a private JWK`)
  }
  if (jwk.kid !== entry.kid || algorithmOf(jwk) !== entry.crv) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${path}: kid or crv differs from manifest`)
  }
  return jwk
}
