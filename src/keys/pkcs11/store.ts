import { randomBytes } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyStoreError } from '../errors.js'
import { isCurve, thumbprint, toPublicJwk, type Curve, type PublicJwk } from '../jwk.js'
import type { KeyEntry } from '../stores/key-store.js'
import type { OpenedKey } from '../ring/agreement.js'
import { publicKeyFileName, writeFileAtomic, type Pkcs11Ref } from '../stores/manifest.js'
import type { NewKeyEntry } from '../stores/dir-files.js'
import { pkcs11Agreement } from './agreement.js'
import { Pkcs11Token, type Pkcs11Options } from './token.js'

/**
 * Custody of keys whose private half is generated in, and never leaves, a PKCS#11 token. Either
 * store (the directory's manifest, PostgreSQL's key_ring_keys) records such a key by its kid with
 * `backend: 'pkcs11'` and its references (token label, CKA_ID): no private material. The token
 * holds the key pair, labelled and identified (CKA_LABEL, CKA_ID) by the kid.
 */

/** A key pair just made in a token: its public JWK (kid = thumbprint) and where it is. */
export interface HsmKey {
  publicJwk: PublicJwk
  ref: Pkcs11Ref
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')

/** The public JWK of a token's public point, with its kid (RFC 7638 thumbprint). */
async function publicJwkOf(crv: Curve, point: Uint8Array): Promise<PublicJwk> {
  const members =
    crv === 'X25519'
      ? { kty: 'OKP', crv, x: b64(point) }
      : { kty: 'EC', crv, x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)) }
  const kid = await thumbprint(members)
  return toPublicJwk({ ...members, kid })
}

export function requirePkcs11(options: Pkcs11Options | undefined, what: string): Pkcs11Options {
  if (!options) {
    throw new KeyStoreError(
      'ERR_KEYS_HSM_UNCONFIGURED',
      `${what} is a PKCS#11 key: set PKCS11_MODULE, PKCS11_TOKEN_LABEL and PKCS11_PIN (or PKCS11_PIN_FILE)`,
    )
  }
  return options
}

/** The configured token, when it is the one the entry names (one token per deployment). */
async function tokenOf(entry: KeyEntry, options: Pkcs11Options | undefined): Promise<Pkcs11Token> {
  const ref = entry.pkcs11
  if (entry.backend !== 'pkcs11' || !ref) {
    throw new KeyStoreError('ERR_KEYS_HSM_KEY', `${entry.kid} is not a PKCS#11 key`)
  }
  const settings = requirePkcs11(options, entry.kid)
  if (ref.token !== settings.tokenLabel) {
    throw new KeyStoreError(
      'ERR_KEYS_HSM_UNCONFIGURED',
      `${entry.kid} is in token ${ref.token}, but PKCS11_TOKEN_LABEL is ${settings.tokenLabel}`,
    )
  }
  return Pkcs11Token.get(settings)
}

/**
 * Generates a key pair in the token (sensitive, never extractable, derive only) and names both
 * halves by its kid. `entries` are the ring's, to refuse a kid it already holds.
 */
export async function makeHsmKey(
  options: Pkcs11Options | undefined,
  crv: Curve,
  entries: readonly { kid: string }[],
): Promise<HsmKey> {
  const settings = requirePkcs11(options, `the new ${crv} key`)
  const token = await Pkcs11Token.get(settings)
  if (!(await token.supports(crv))) {
    const mechanism = crv === 'X25519' ? 'CKM_EC_MONTGOMERY_KEY_PAIR_GEN' : 'CKM_EC_KEY_PAIR_GEN'
    throw new KeyStoreError(
      'ERR_KEYS_HSM_CURVE_UNSUPPORTED',
      `token ${settings.tokenLabel} cannot make ${crv} keys for ECDH (no ${mechanism} with CKM_ECDH1_DERIVE); use --curve P-256, or an in-process key for ${crv}`,
    )
  }
  const pending = `pending-${randomBytes(8).toString('hex')}`
  const point = await token.generate(crv, pending)
  const publicJwk = await publicJwkOf(crv, point)
  if (entries.some((k) => k.kid === publicJwk.kid)) {
    throw new KeyStoreError('ERR_KEYS_HSM_KEY', `${publicJwk.kid} is already in the key ring`)
  }
  await token.rename(pending, publicJwk.kid)
  return { publicJwk, ref: { token: settings.tokenLabel, id: publicJwk.kid } }
}

/**
 * The directory store's record of a token key: the public JWK in <kid>.public.jwk.json (0644,
 * what the JWKS publishes) and an entry, active, without an HPKE key id yet.
 */
export async function writeHsmKey(dir: string, key: HsmKey, now: Date): Promise<NewKeyEntry> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const { kid, crv } = key.publicJwk
  const file = publicKeyFileName(kid)
  await writeFileAtomic(join(dir, file), JSON.stringify(key.publicJwk) + '\n', 0o644)
  return {
    kid,
    crv,
    state: 'active',
    created: now.toISOString(),
    notAfter: null,
    file,
    backend: 'pkcs11',
    pkcs11: key.ref,
  }
}

/** A directory's public JWK file of a token key, checked against its kid. */
export async function readPublicKeyFile(dir: string, entry: KeyEntry): Promise<PublicJwk> {
  const path = join(dir, entry.file ?? publicKeyFileName(entry.kid))
  let jwk: PublicJwk
  try {
    jwk = toPublicJwk(JSON.parse(await readFile(path, 'utf8')))
  } catch (cause) {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${path}: not a public JWK`, { cause })
  }
  if (jwk.kid !== entry.kid || jwk.crv !== entry.crv || (await thumbprint(jwk)) !== entry.kid) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${path}: kid is not its thumbprint`)
  }
  return jwk
}

/**
 * Opens a token key for the ring: the token must hold a public key whose thumbprint is the kid
 * and the private key beside it. The public JWK comes from the token itself.
 */
/**
 * The curve of a token key's entry. An X-Wing key never is one: PKCS#11 3.2 defines ML-KEM
 * (CKM_ML_KEM) but no X-Wing mechanism, and SoftHSM2 and the tokens this gateway supports have
 * neither, so the hybrid key can only be sealed like every other key in a store.
 */
export function tokenCurve(crv: string): Curve {
  if (!isCurve(crv)) {
    throw new KeyStoreError(
      'ERR_KEYS_HSM_CURVE_UNSUPPORTED',
      `a PKCS#11 token cannot hold an ${crv} key: PKCS#11 has no X-Wing mechanism (3.2 has ML-KEM alone, CKM_ML_KEM, which SoftHSM2 lacks); keep it sealed in the store (leave out --hsm)`,
    )
  }
  return crv
}

export async function openHsmKey(
  entry: KeyEntry,
  options: Pkcs11Options | undefined,
): Promise<OpenedKey> {
  const token = await tokenOf(entry, options)
  const id = entry.pkcs11!.id
  const publicJwk = await publicJwkOf(tokenCurve(entry.crv), await token.publicPoint(id))
  if (publicJwk.kid !== entry.kid) {
    throw new KeyStoreError(
      'ERR_KEYS_HSM_KEY',
      `token ${token.label}: the key with id ${id} is not ${entry.kid}`,
    )
  }
  if (!(await token.hasKey(id))) {
    throw new KeyStoreError(
      'ERR_KEYS_HSM_KEY',
      `token ${token.label}: no private key with id ${id}`,
    )
  }
  return {
    publicJwk: { ...publicJwk, hpke_key_id: entry.hpkeKeyId },
    backend: pkcs11Agreement(token, id, tokenCurve(entry.crv)),
  }
}

/**
 * doctor's checks of a token key: the token holds it with the kid's public key, and reports the
 * private key a token object, (always) sensitive, not and never extractable, able to derive.
 * With `dir`, the directory's public JWK file is checked too. Returns the errors.
 */
export async function hsmFindings(
  entry: KeyEntry,
  options: Pkcs11Options | undefined,
  dir?: string,
): Promise<string[]> {
  const errors: string[] = []
  try {
    if (dir !== undefined) await readPublicKeyFile(dir, entry)
    const token = await tokenOf(entry, options)
    const id = entry.pkcs11!.id
    const point = await token.publicPoint(id)
    if ((await publicJwkOf(tokenCurve(entry.crv), point)).kid !== entry.kid) {
      errors.push(`${entry.kid}: the token's public key is not this kid`)
    }
    const facts = await token.privateKeyFacts(id)
    if (!facts.token) errors.push(`${entry.kid}: not a token object (CKA_TOKEN false)`)
    if (!facts.sensitive || !facts.alwaysSensitive) {
      errors.push(`${entry.kid}: the private key is not (always) sensitive in the token`)
    }
    if (facts.extractable || !facts.neverExtractable) {
      errors.push(`${entry.kid}: the private key is or was extractable from the token`)
    }
    if (!facts.derive) errors.push(`${entry.kid}: the private key cannot derive (CKA_DERIVE)`)
  } catch (e) {
    errors.push(e instanceof KeyStoreError ? e.message : `${entry.kid}: ${(e as Error).message}`)
  }
  return errors
}

/**
 * Destroys a destroyed key's private key object in its token (C_DestroyObject). The public key
 * object stays, like the ring's public record. Returns the number of objects destroyed.
 */
export async function destroyHsmKey(
  entry: KeyEntry,
  options: Pkcs11Options | undefined,
): Promise<number> {
  const token = await tokenOf(entry, options)
  return token.destroyPrivateKey(entry.pkcs11!.id)
}

/** Whether the token still holds a private key for a (destroyed) token key. */
export async function hsmHoldsPrivateKey(
  entry: KeyEntry,
  options: Pkcs11Options | undefined,
): Promise<boolean> {
  return (await tokenOf(entry, options)).hasKey(entry.pkcs11!.id)
}

/** Ends this process's PKCS#11 sessions (a custody command that is done, a test). */
export function closePkcs11Tokens(): void {
  Pkcs11Token.closeAll()
}
