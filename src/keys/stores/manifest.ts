import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyStoreError } from '../errors.js'
import { isKeyAlgorithm, type KeyAlgorithm } from '../jwk.js'
import type { InvalidEntry } from './invalid-entry.js'
import { isRingAuth, type RingAuth } from './ring-mac.js'

/**
 * Key lifecycle, per key:
 * - pending: accepted, not yet published; published (active) from `publishAt` on, so every
 *   instance of a fleet accepts a key before any instance publishes it;
 * - active: published in the JWKS and accepted; one with `retireAt` becomes retiring then;
 * - retiring: no longer published, still accepted until `notAfter`;
 * - retired, revoked: rejected;
 * - destroyed: rejected, and its private key removed from every place it was held; the public
 *   record stays, so its kid and hpkeKeyId are never given to another key.
 */
export const KEY_STATES = [
  'pending',
  'active',
  'retiring',
  'retired',
  'revoked',
  'destroyed',
] as const
export type KeyState = (typeof KEY_STATES)[number]

export interface ManifestEntry {
  kid: string
  /**
   * The key's HPKE key id (docs/TOKENS.md): a small number the gateway assigns and publishes in
   * the JWKS as `hpke_key_id`, as RFC 9458 §3 does for its key configurations. Assigned when the
   * key is generated, max(every key's id) + 1, retired and revoked keys included: never reused.
   */
  hpkeKeyId: number
  /** The key's curve, or X-Wing (the hybrid KEM of HPKE tokens). */
  crv: KeyAlgorithm
  state: KeyState
  /** ISO 8601 time the key was generated. */
  created: string
  /** ISO 8601 time after which a retiring key is no longer accepted. */
  notAfter: string | null
  /** ISO 8601 time a pending key is published (becomes active); absent otherwise. */
  publishAt?: string | null
  /** ISO 8601 time an active key stops being published (its successor's publishAt). */
  retireAt?: string | null
  /** ISO 8601 time a retired or revoked key is due to be destroyed (`keys sweep`). */
  destroyAt?: string | null
  /** ISO 8601 time the key was destroyed. */
  destroyedAt?: string | null
  /** File name of the private JWK (or, for a PKCS#11 key, of its public JWK), in the key directory. */
  file: string
  /**
   * Where the private key is when no store holds it: 'pkcs11', generated in and never leaving a
   * PKCS#11 token (`pkcs11` names it). Absent: the private JWK, in `file` or a sealed row.
   */
  backend?: 'pkcs11'
  /** A PKCS#11 key's references: the token's label and the CKA_ID of the key pair there. */
  pkcs11?: Pkcs11Ref
}

/** Where a PKCS#11 key is: references only, no private material. */
export interface Pkcs11Ref {
  /** CKA_LABEL of the token (PKCS11_TOKEN_LABEL when the key was generated). */
  token: string
  /** CKA_ID of the key pair in the token, as text (the kid). */
  id: string
}

export interface Manifest {
  version: 1
  keys: ManifestEntry[]
  /** The ring's MAC and generation (ring-mac.ts), when a passphrase is set. */
  auth?: RingAuth
}

export const MANIFEST_FILE = 'manifest.json'

/** The private JWK in clear (mode 0600), or sealed with a passphrase (see protect.ts). */
export function privateKeyFileName(kid: string, sealed = false): string {
  return sealed ? `${kid}.private.jwk.jwe` : `${kid}.private.jwk.json`
}

/** The public JWK of a key whose private half stays in a PKCS#11 token. */
export function publicKeyFileName(kid: string): string {
  return `${kid}.public.jwk.json`
}

/** A private key file's name, in clear or sealed (privateKeyFileName). */
export const PRIVATE_KEY_FILE = /\.private\.jwk\.(json|jwe)$/

export function isSealedKeyFile(file: string): boolean {
  return file.endsWith('.jwe')
}

/** HPKE key ids are 16-bit (2 bytes in the token); 0 is never assigned. */
export const HPKE_KEY_ID_MAX = 0xffff

function isHpkeKeyId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= HPKE_KEY_ID_MAX
}

/** The id for a new key: one more than the largest ever assigned in this manifest. */
export function nextHpkeKeyId(keys: readonly { hpkeKeyId?: number }[]): number {
  const next = Math.max(0, ...keys.map((k) => k.hpkeKeyId ?? 0)) + 1
  if (next > HPKE_KEY_ID_MAX) {
    throw new KeyStoreError(
      'ERR_KEYS_HPKE_KEY_ID_EXHAUSTED',
      `no HPKE key id left after ${next - 1}`,
    )
  }
  return next
}

function isPkcs11Ref(value: unknown): value is Pkcs11Ref {
  const ref = value as Partial<Record<keyof Pkcs11Ref, unknown>> | null | undefined
  return (
    typeof ref === 'object' &&
    ref !== null &&
    typeof ref.token === 'string' &&
    /^[\x20-\x7e]{1,32}$/.test(ref.token) &&
    typeof ref.id === 'string' &&
    /^[A-Za-z0-9_-]{1,64}$/.test(ref.id)
  )
}

function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value))
}

/** What is wrong with one raw manifest entry, or undefined when it is well formed. */
function entryProblem(k: unknown, i: number): string | undefined {
  const e = (k ?? {}) as Partial<Record<keyof ManifestEntry, unknown>>
  if (typeof k !== 'object' || k === null) return `keys[${i}]: not an object`
  if (typeof e.kid !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(e.kid)) return `keys[${i}].kid`
  if (e.hpkeKeyId !== undefined && !isHpkeKeyId(e.hpkeKeyId)) {
    return `keys[${i}].hpkeKeyId: an integer from 1 to 65535`
  }
  if (!isKeyAlgorithm(e.crv)) return `keys[${i}].crv`
  if (!(KEY_STATES as readonly unknown[]).includes(e.state)) return `keys[${i}].state`
  if (!isIsoDate(e.created)) return `keys[${i}].created`
  if (e.notAfter !== null && !isIsoDate(e.notAfter)) return `keys[${i}].notAfter`
  if (e.state === 'retiring' && e.notAfter === null) return `keys[${i}]: retiring needs notAfter`
  if (e.publishAt != null && !isIsoDate(e.publishAt)) return `keys[${i}].publishAt`
  if (e.state === 'pending' && e.publishAt == null) return `keys[${i}]: pending needs publishAt`
  if (e.retireAt != null && !isIsoDate(e.retireAt)) return `keys[${i}].retireAt`
  if (e.retireAt != null && e.notAfter == null) return `keys[${i}]: retireAt needs notAfter`
  if (e.destroyAt != null && !isIsoDate(e.destroyAt)) return `keys[${i}].destroyAt`
  if (e.destroyedAt != null && !isIsoDate(e.destroyedAt)) return `keys[${i}].destroyedAt`
  if ((e.state === 'destroyed') !== (e.destroyedAt != null)) {
    return `keys[${i}]: destroyedAt goes with the destroyed state`
  }
  const kid = e.kid
  if (e.backend !== undefined && e.backend !== 'pkcs11') return `keys[${i}].backend`
  if ((e.backend === 'pkcs11') !== isPkcs11Ref(e.pkcs11)) return `keys[${i}].pkcs11`
  const files =
    e.backend === 'pkcs11'
      ? [publicKeyFileName(kid)]
      : [privateKeyFileName(kid), privateKeyFileName(kid, true)]
  if (!files.includes(e.file as string)) return `keys[${i}].file`
  return undefined
}

/** The manifest's entries and what was wrong with any of them. */
export interface ManifestReading extends Manifest {
  /** Entries left out, each named; a revocation among them still counts (see InvalidEntry). */
  invalid: InvalidEntry[]
}

/**
 * Reads a manifest entry by entry: an entry that is malformed, or whose kid or HPKE key id another
 * entry has too, is left out and named, and the rest is the ring. A kid listed twice is left out
 * entirely (it is accepted nowhere), so a duplicate can never hide a revocation.
 */
export function readManifestEntries(text: string): ManifestReading {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (cause) {
    throw new KeyStoreError('ERR_KEYS_MANIFEST_INVALID', `${MANIFEST_FILE} is not JSON`, { cause })
  }
  const fail = (why: string): never => {
    throw new KeyStoreError('ERR_KEYS_MANIFEST_INVALID', `${MANIFEST_FILE}: ${why}`)
  }
  if (typeof data !== 'object' || data === null) return fail('expected an object')
  const { version, keys, auth } = data as { version?: unknown; keys?: unknown; auth?: unknown }
  if (version !== 1) return fail('unsupported version')
  if (!Array.isArray(keys)) return fail('"keys" must be an array')
  const kidCount = new Map<string, number>()
  for (const k of keys as { kid?: unknown }[]) {
    if (typeof k?.kid === 'string') kidCount.set(k.kid, (kidCount.get(k.kid) ?? 0) + 1)
  }
  const valid: ManifestEntry[] = []
  const invalid: InvalidEntry[] = []
  const seenHpke = new Set<number>()
  for (const [i, k] of keys.entries()) {
    const e = (k ?? {}) as { kid?: unknown; hpkeKeyId?: unknown; state?: unknown }
    const kid = typeof e.kid === 'string' ? e.kid : undefined
    let why = entryProblem(k, i)
    if (!why && (kidCount.get(kid!) ?? 0) > 1) why = `duplicate kid at keys[${i}]`
    if (!why && typeof e.hpkeKeyId === 'number' && seenHpke.has(e.hpkeKeyId)) {
      why = `duplicate hpkeKeyId at keys[${i}]`
    }
    if (why) {
      invalid.push({
        ...(kid !== undefined ? { kid } : {}),
        ...(isHpkeKeyId(e.hpkeKeyId) ? { hpkeKeyId: e.hpkeKeyId } : {}),
        why: `${MANIFEST_FILE}: ${why}`,
        revoked: e.state === 'revoked',
        raw: k,
      })
      continue
    }
    if (typeof e.hpkeKeyId === 'number') seenHpke.add(e.hpkeKeyId)
    valid.push(k as ManifestEntry)
  }
  const keysOf = assignMissingHpkeKeyIds(valid, invalid)
  return { version: 1, keys: keysOf, invalid, ...(isRingAuth(auth) ? { auth } : {}) }
}

/** The manifest, refused whole when any entry is wrong (tools that check a manifest). */
export function parseManifest(text: string): Manifest {
  const { keys, invalid } = readManifestEntries(text)
  if (invalid[0]) throw new KeyStoreError('ERR_KEYS_MANIFEST_INVALID', invalid[0].why)
  return { version: 1, keys }
}

/**
 * A manifest written before HPKE key ids existed: each key without one gets max + 1 in manifest
 * order. Deterministic, so every reader of the same file publishes the same ids; the next command
 * that writes the manifest (rotate, retire, revoke, a new key) records them.
 */
function assignMissingHpkeKeyIds(
  keys: ManifestEntry[],
  invalid: readonly { hpkeKeyId?: number }[] = [],
): ManifestEntry[] {
  for (const entry of keys) {
    if (entry.hpkeKeyId === undefined) entry.hpkeKeyId = nextHpkeKeyId([...keys, ...invalid])
  }
  return keys
}

/**
 * The manifest of `dir`. A directory without one lists no keys (a fresh checkout), unless
 * `required`: a running gateway's reload then fails rather than dropping every key while the
 * directory is being replaced.
 */
export async function readManifest(
  dir: string,
  { required = false } = {},
): Promise<ManifestReading> {
  let text: string
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return { version: 1, keys: [], invalid: [] }
      throw new KeyStoreError('ERR_KEYS_MANIFEST_MISSING', `${dir}: no ${MANIFEST_FILE}`, {
        cause,
      })
    }
    throw cause
  }
  return readManifestEntries(text)
}

/** The temporary file an atomic write of `path` goes through: `<path>.<12 hex digits>.tmp`. */
export const TEMPORARY_FILE = /^(.+)\.[0-9a-f]{12}\.tmp$/

/**
 * Writes to a temporary file and renames it over the old one: readers see old or new, never half.
 * A write or rename that fails removes the temporary file (it may hold a sealed or plain private
 * key); only a process killed between the two leaves one, which `keys doctor` reports.
 */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' })
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
}

/** Writes the manifest: its entries, then the invalid ones as they were read (revoked if marked). */
export async function writeManifest(
  dir: string,
  manifest: Manifest & { invalid?: readonly InvalidEntry[] },
): Promise<void> {
  const keys: unknown[] = [...manifest.keys]
  for (const bad of manifest.invalid ?? []) {
    const raw = bad.raw
    keys.push(
      bad.revokedAt && typeof raw === 'object' && raw !== null
        ? { ...raw, state: 'revoked', notAfter: bad.revokedAt, publishAt: null, retireAt: null }
        : raw,
    )
  }
  const auth = manifest.auth ? { auth: manifest.auth } : {}
  const text = JSON.stringify({ version: 1, ...auth, keys }, null, 2) + '\n'
  await writeFileAtomic(join(dir, MANIFEST_FILE), text, 0o644)
}

type Timed = Pick<ManifestEntry, 'state' | 'notAfter' | 'publishAt' | 'retireAt'>

/**
 * A key's state at `now`: a pending key is active from its `publishAt`, an active key with a
 * `retireAt` is retiring from then. Every instance computes the same answer from the same
 * stored ring, so publication needs no write at publication time.
 */
export function stateAt(entry: Timed, now: Date): KeyState {
  if (entry.state === 'pending' && entry.publishAt && now >= new Date(entry.publishAt)) {
    return 'active'
  }
  if (entry.state === 'active' && entry.retireAt && now >= new Date(entry.retireAt)) {
    return 'retiring'
  }
  return entry.state
}

/** Whether a key in this state decrypts tokens at `now` (pending keys do: see KEY_STATES). */
export function isAccepted(entry: Timed, now: Date): boolean {
  const state = stateAt(entry, now)
  if (state === 'active' || state === 'pending') return true
  if (state === 'retiring') return entry.notAfter !== null && now < new Date(entry.notAfter)
  return false
}

/** Whether a key is in the published JWKS at `now`. */
export function isPublished(entry: Timed, now: Date): boolean {
  return stateAt(entry, now) === 'active'
}
