import { createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { KeyStoreError } from '../errors.js'
import { destructionFields, inKidOrder, lifecycleFields, type Encoded } from './entry-fields.js'
import type { InvalidEntry } from './invalid-entry.js'

/**
 * The ring's authentication: HMAC-SHA256 (RFC 2104) over the canonical entries and the ring's
 * generation, under a key derived from KEYS_PASSPHRASE with PBKDF2-HMAC-SHA256 (RFC 8018 §5.2)
 * and a label of its own, so it is never the key that seals a private key. PBKDF2 with 600,000
 * iterations, like the seals: the stored check value must not be a cheaper passphrase oracle
 * than a sealed key. Derived once per process and salt.
 */
const LABEL = 'sealed-search key ring MAC v1'
const CHECK_LABEL = 'sealed-search key ring passphrase check v1'
export const RING_MAC_ITERATIONS = 600_000

/** The members of an entry the MAC covers (a KeyEntry): the ring version's, and where its key is. */
interface Covered extends Encoded {
  hpkeKeyId: number
  backend?: string | undefined
  pkcs11?: { token: string; id: string } | undefined
}

/** What a stored ring carries beside its entries (manifest `auth`; key_ring's columns). */
export interface RingAuth {
  /** Increases by one with every change: an instance never goes back to a lower one. */
  generation: number
  /** base64url, 16 bytes: the PBKDF2 salt of this ring's MAC key. */
  salt: string
  /** HMAC of a fixed label: proves the passphrase before anything else is read. */
  check: string
  /** HMAC of the canonical ring. */
  mac: string
}

const derive = promisify(pbkdf2)
const keys = new Map<string, Promise<Buffer>>()

async function macKey(passphrase: string, salt: string): Promise<Buffer> {
  const id = `${salt}\u0000${passphrase}`
  let key = keys.get(id)
  if (!key) {
    const input = Buffer.concat([Buffer.from(LABEL + '\u0000'), Buffer.from(salt, 'base64url')])
    key = derive(passphrase, input, RING_MAC_ITERATIONS, 32, 'sha256')
    keys.set(id, key)
    key.catch(() => keys.delete(id))
  }
  return key
}

/** The canonical ring: entries in kid order, every member a gateway acts on, and the generation. */
export function canonicalRing(
  generation: number,
  entries: readonly Covered[],
  invalid: readonly InvalidEntry[],
): string {
  return JSON.stringify([
    'sealed-search ring',
    generation,
    inKidOrder(entries).map((e) => [
      ...lifecycleFields(e),
      e.backend ?? null,
      e.pkcs11 ? [e.pkcs11.token, e.pkcs11.id] : null,
      ...destructionFields(e),
    ]),
    invalid.map((e) => [e.kid ?? null, e.revoked || e.revokedAt !== undefined]),
  ])
}

const hmac = (key: Buffer, text: string) =>
  createHmac('sha256', key).update(text).digest('base64url')

const same = (a: string, b: string) => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** The authentication of the ring a change writes: the next generation, a MAC of the entries. */
export async function authenticateRing(
  passphrase: string,
  previous: RingAuth | undefined,
  entries: readonly Covered[],
  invalid: readonly InvalidEntry[],
): Promise<RingAuth> {
  const salt = previous?.salt ?? randomBytes(16).toString('base64url')
  const key = await macKey(passphrase, salt)
  const generation = (previous?.generation ?? 0) + 1
  return {
    generation,
    salt,
    check: hmac(key, CHECK_LABEL),
    mac: hmac(key, canonicalRing(generation, entries, invalid)),
  }
}

/** How a stored ring stands against the passphrase. */
export type Authenticity = 'authentic' | 'unauthenticated' | 'tampered' | 'wrong-passphrase'

export async function verifyRing(
  passphrase: string,
  auth: RingAuth | undefined,
  entries: readonly Covered[],
  invalid: readonly InvalidEntry[],
): Promise<Authenticity> {
  if (!auth) return 'unauthenticated'
  const key = await macKey(passphrase, auth.salt)
  if (!same(hmac(key, CHECK_LABEL), auth.check)) return 'wrong-passphrase'
  const mac = hmac(key, canonicalRing(auth.generation, entries, invalid))
  return same(mac, auth.mac) ? 'authentic' : 'tampered'
}

/** Whether `value` is a RingAuth as stored (anything else is treated as no authentication). */
export function isRingAuth(value: unknown): value is RingAuth {
  const a = value as Partial<Record<keyof RingAuth, unknown>> | null
  return (
    typeof a === 'object' &&
    a !== null &&
    Number.isSafeInteger(a.generation) &&
    (a.generation as number) >= 1 &&
    [a.salt, a.check, a.mac].every((s) => typeof s === 'string' && /^[A-Za-z0-9_-]{16,86}$/.test(s))
  )
}

/** The error of a ring that is not authentic, naming the cause and never any key material. */
export function authenticityError(state: Exclude<Authenticity, 'authentic'>, where: string) {
  switch (state) {
    case 'wrong-passphrase':
      return new KeyStoreError(
        'ERR_KEYS_PASSPHRASE_WRONG',
        `${where}: KEYS_PASSPHRASE is not this key ring's passphrase (its check value does not match)`,
      )
    case 'tampered':
      return new KeyStoreError(
        'ERR_KEYS_RING_MAC',
        `${where}: the key ring's MAC does not match its entries: it was changed outside npm run keys`,
      )
    case 'unauthenticated':
      return new KeyStoreError(
        'ERR_KEYS_RING_UNAUTHENTICATED',
        `${where}: the key ring carries no MAC; run: npm run keys -- authenticate`,
      )
  }
}
