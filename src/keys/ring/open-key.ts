/** Opening a stored key into a ring key: the kid checked against the key, the key placed by kind. */
import type { OpenedKey } from './agreement.js'
import { KeyStoreError } from '../errors.js'
import {
  hybridRingKey,
  openXWingKey,
  type HybridRingKey,
  type OpenedXWingKey,
} from './hybrid-key.js'
import { inProcessFromJwk } from './in-process.js'
import { KeyRing } from './keyring.js'
import { ringKey, type RingKey, type RingKeyInfo } from './ring-key.js'
import type { KeyEntry, StoredRing } from '../stores/key-store.js'
import { openHsmKey } from '../pkcs11/store.js'
import {
  algorithmOf,
  thumbprint,
  toPublicJwk,
  type PrivateJwk,
  type PublicJwk,
  type StoredJwk,
} from '../jwk.js'
import { readManifest } from '../stores/manifest.js'
import { readPrivateKeyFile, type KeyFileOptions } from '../stores/dir-files.js'

/**
 * Checks a private JWK against its entry — the kid must be the public key's RFC 7638 thumbprint,
 * and d the private key of x/y — and keeps it in an in-process backend. `where` names it.
 */
export async function openKey(
  entry: { kid: string; hpkeKeyId?: number | undefined },
  jwk: PrivateJwk,
  where: string,
): Promise<OpenedKey> {
  const publicJwk: PublicJwk = { ...toPublicJwk(jwk), hpke_key_id: entry.hpkeKeyId }
  if ((await thumbprint(publicJwk)) !== entry.kid) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${where}: kid is not its thumbprint`)
  }
  return { publicJwk, backend: inProcessFromJwk(jwk, publicJwk, where) }
}

/**
 * Opens a key of a store's reading: a private JWK the store holds (checked by `openKey`), or a
 * key whose private half stays in a PKCS#11 token (`backend: 'pkcs11'`), which the token must
 * hold with the public key the kid names.
 */
export async function openStoredKey(
  stored: StoredRing,
  entry: KeyEntry,
): Promise<OpenedKey | OpenedXWingKey> {
  if (entry.backend === 'pkcs11') return openHsmKey(entry, stored.pkcs11)
  return openAnyKey(entry, await stored.privateKey(entry), entry.file ?? entry.kid)
}

/** `openKey` for a curve's key, `openXWingKey` for an X-Wing key (the entry says which). */
async function openAnyKey(
  entry: { kid: string; crv: string; hpkeKeyId?: number | undefined },
  jwk: StoredJwk,
  where: string,
): Promise<OpenedKey | OpenedXWingKey> {
  if (algorithmOf(jwk) !== entry.crv) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${where}: the key is not a ${entry.crv} key`)
  }
  return jwk.kty === 'AKP' ? openXWingKey(entry.kid, jwk, where) : openKey(entry, jwk, where)
}

/** The manifest facts a ring key carries. */
type EntryFacts = Omit<RingKeyInfo, 'crv' | 'publicJwk'> & { crv: KeyEntry['crv'] }

/** Sorts opened keys into the ring's two kinds: ECDH keys (`agree`) and hybrid ones. */
export function placeKey(
  info: EntryFacts,
  opened: OpenedKey | OpenedXWingKey,
  keys: RingKey[],
  hybrid: HybridRingKey[],
): void {
  if ('decapsulator' in opened) {
    hybrid.push(hybridRingKey(info, opened))
    return
  }
  const { crv } = opened.backend
  keys.push(ringKey({ ...info, crv, publicJwk: opened.publicJwk }, opened.backend))
}

/** Loads every key the manifest lists, checking permissions and that each kid is its thumbprint. */
export async function loadKeyRing(dir: string, options: KeyFileOptions = {}): Promise<KeyRing> {
  const manifest = await readManifest(dir)
  const keys: RingKey[] = []
  const hybrid: HybridRingKey[] = []
  for (const entry of manifest.keys) {
    const jwk = await readPrivateKeyFile(dir, entry, options)
    const { kid, crv, state, created, notAfter, hpkeKeyId } = entry
    const info = { kid, crv, state, created, notAfter, hpkeKeyId }
    placeKey(info, await openAnyKey(entry, jwk, entry.file), keys, hybrid)
  }
  return new KeyRing(keys, hybrid)
}

export type { OpenedKey } from './agreement.js'
