import { KeyRing } from './keyring.js'
import type { RingKey } from './ring-key.js'
import type { HybridRingKey } from './hybrid-key.js'

/** This host's clock against the store's (the database's): positive when this host is ahead. */
export interface ClockReading {
  skewSeconds: number
}

/**
 * Reads the store's clock once, timed: as in NTP's offset (RFC 5905 §8), the store is taken to
 * have read its clock halfway through the round trip. `storeNow` is the database's
 * clock_timestamp(); `clock` this host's milliseconds.
 */
export async function measureSkew(
  storeNow: () => Promise<Date>,
  clock: () => number = () => Date.now(),
): Promise<ClockReading> {
  const sent = clock()
  const theirs = (await storeNow()).getTime()
  const back = clock()
  return { skewSeconds: ((sent + back) / 2 - theirs) / 1000 }
}

/** The store's time now, by this host's clock corrected by a measured skew. */
export function storeTime(skewSeconds: number, clock: () => number = () => Date.now()): Date {
  return new Date(clock() - skewSeconds * 1000)
}

const later = (at: string | null | undefined, now: Date) =>
  typeof at === 'string' && new Date(at) > now

/**
 * The ring an instance whose clock is off by more than the bound uses: a pending key not yet due
 * by the store's time stays pending (accepted, not published), and the key it replaces stays
 * published. Its own clock decides nothing about publication until it is back within the bound;
 * everything it accepts stays accepted.
 */
export function holdPublication(ring: KeyRing, storeNow: Date): KeyRing {
  const hold = <K extends RingKey | HybridRingKey>(k: K): K => {
    if (k.state === 'pending' && later(k.publishAt, storeNow)) return { ...k, publishAt: null }
    if (k.state === 'active' && later(k.retireAt, storeNow)) return { ...k, retireAt: null }
    return k
  }
  return new KeyRing(ring.keys.map(hold), ring.hybridKeys.map(hold))
}
