import { randomBytes } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyStoreError } from './errors.js'
import { isCurve, type Curve } from './jwk.js'

/**
 * Key lifecycle, per key:
 * - active: published in the JWKS and accepted;
 * - retiring: no longer published, still accepted until `notAfter`;
 * - retired, revoked: rejected.
 */
export const KEY_STATES = ['active', 'retiring', 'retired', 'revoked'] as const
export type KeyState = (typeof KEY_STATES)[number]

export interface ManifestEntry {
  kid: string
  crv: Curve
  state: KeyState
  /** ISO 8601 time the key was generated. */
  created: string
  /** ISO 8601 time after which a retiring key is no longer accepted. */
  notAfter: string | null
  /** File name of the private JWK, relative to the key directory. */
  file: string
}

export interface Manifest {
  version: 1
  keys: ManifestEntry[]
}

export const MANIFEST_FILE = 'manifest.json'

/** The private JWK in clear (mode 0600), or sealed with a passphrase (see protect.ts). */
export function privateKeyFileName(kid: string, sealed = false): string {
  return sealed ? `${kid}.private.jwk.jwe` : `${kid}.private.jwk.json`
}

export function isSealedKeyFile(file: string): boolean {
  return file.endsWith('.jwe')
}

function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value))
}

export function parseManifest(text: string): Manifest {
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
  const { version, keys } = data as { version?: unknown; keys?: unknown }
  if (version !== 1) return fail('unsupported version')
  if (!Array.isArray(keys)) return fail('"keys" must be an array')
  const seen = new Set<string>()
  for (const [i, k] of keys.entries()) {
    const e = k as Partial<Record<keyof ManifestEntry, unknown>>
    if (typeof e.kid !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(e.kid)) fail(`keys[${i}].kid`)
    if (seen.has(e.kid as string)) fail(`duplicate kid at keys[${i}]`)
    seen.add(e.kid as string)
    if (!isCurve(e.crv)) fail(`keys[${i}].crv`)
    if (!(KEY_STATES as readonly unknown[]).includes(e.state)) fail(`keys[${i}].state`)
    if (!isIsoDate(e.created)) fail(`keys[${i}].created`)
    if (e.notAfter !== null && !isIsoDate(e.notAfter)) fail(`keys[${i}].notAfter`)
    if (e.state === 'retiring' && e.notAfter === null) fail(`keys[${i}]: retiring needs notAfter`)
    const kid = e.kid as string
    if (e.file !== privateKeyFileName(kid) && e.file !== privateKeyFileName(kid, true)) {
      fail(`keys[${i}].file`)
    }
  }
  return { version: 1, keys: keys as ManifestEntry[] }
}

export async function readManifest(dir: string): Promise<Manifest> {
  let text: string
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, keys: [] }
    throw cause
  }
  return parseManifest(text)
}

/** Writes to a temporary file and renames it over the old one: readers see old or new, never half. */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(tmp, data, { mode, flag: 'wx' })
  await rename(tmp, path)
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', 0o644)
}

/** Whether a key in this state decrypts tokens at `now`. */
export function isAccepted(entry: Pick<ManifestEntry, 'state' | 'notAfter'>, now: Date): boolean {
  if (entry.state === 'active') return true
  if (entry.state === 'retiring') return entry.notAfter !== null && now < new Date(entry.notAfter)
  return false
}
