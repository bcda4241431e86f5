/**
 * What the scanner knows of the keys: public information only (kid, HPKE key id, curve, state),
 * read from a store's entries without opening any private key, or from a published JWKS.
 */
import { stateAt, type KeyEntry } from '../keys/index.js'

/** A key's state now, as a report gives it; `unknown` when the ring does not list the key. */
export type ScanKeyState =
  'pending' | 'active' | 'retiring' | 'retired' | 'revoked' | 'destroyed' | 'unknown'

export interface ScanKey {
  kid: string
  hpkeKeyId?: number
  curve: string
  state: ScanKeyState
}

export interface ScanRing {
  /** Where the keys were read (a directory, the key ring table, a JWKS URL). */
  source: string
  keys: readonly ScanKey[]
}

/** Whether a private key of this state may still exist, so that a token for it can be opened. */
export function decryptable(state: ScanKeyState): boolean {
  return state !== 'destroyed' && state !== 'unknown'
}

export function ringFromEntries(
  source: string,
  entries: readonly KeyEntry[],
  now = new Date(),
): ScanRing {
  return {
    source,
    keys: entries.map((e) => ({
      kid: e.kid,
      hpkeKeyId: e.hpkeKeyId,
      curve: e.crv,
      state: stateAt(e, now),
    })),
  }
}

/** Longest JWKS read: a few keys are a few kilobytes. */
const MAX_JWKS_BYTES = 1 << 20

/**
 * A published JWKS lists the active keys only: those are `active`, every other key a log names
 * is `unknown` (read the store for retiring, retired, revoked and destroyed keys).
 */
export function ringFromJwks(source: string, text: string): ScanRing {
  if (text.length > MAX_JWKS_BYTES) throw new Error(`${source}: JWKS larger than 1 MiB`)
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw new Error(`${source}: not JSON`)
  }
  const keys = (data as { keys?: unknown }).keys
  if (!Array.isArray(keys)) throw new Error(`${source}: no "keys" array`)
  return {
    source,
    keys: keys.flatMap((k: Record<string, unknown>) =>
      typeof k?.kid === 'string'
        ? [
            {
              kid: k.kid,
              ...(Number.isInteger(k.hpke_key_id) ? { hpkeKeyId: k.hpke_key_id as number } : {}),
              curve: typeof k.crv === 'string' ? k.crv : '?',
              state: 'active' as const,
            },
          ]
        : [],
    ),
  }
}

export async function fetchJwksRing(url: string): Promise<ScanRing> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`)
  return ringFromJwks(url, await res.text())
}
