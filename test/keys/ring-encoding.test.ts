/**
 * The two encodings of a ring's entries: the MAC's canonical text (ring-mac.ts), which every
 * custodian's MAC depends on, and the ring version (ring-version.ts), which every instance and
 * the store compare. Both are pinned to fixed values here: a change in either encoding would make
 * every stored MAC fail or every instance reload, and the round-trip tests elsewhere compute both
 * sides with the same code, so they would not see it.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { canonicalRing } from '../../src/keys/stores/ring-mac.js'
import { ringVersion } from '../../src/keys/stores/ring-version.js'
import type { KeyEntry } from '../../src/keys/stores/key-store.js'

const entries = [
  {
    kid: 'b-x25519',
    hpkeKeyId: 2,
    crv: 'X25519',
    state: 'retired',
    created: '2026-01-02T03:04:05Z',
    notAfter: '2026-02-01T00:00:00.000+00:00',
    publishAt: null,
    retireAt: null,
    destroyAt: '2026-03-01T00:00:00Z',
  },
  {
    kid: 'a-p256',
    hpkeKeyId: 1,
    crv: 'P-256',
    state: 'active',
    created: '2026-01-01T00:00:00.000Z',
    notAfter: null,
    publishAt: null,
    retireAt: '2026-06-01T12:00:00+02:00',
    backend: 'pkcs11',
    pkcs11: { token: 'sealed', id: 'a-p256' },
  },
  {
    kid: 'c-xwing',
    hpkeKeyId: 3,
    crv: 'X-Wing',
    state: 'pending',
    created: '2026-01-03T00:00:00.000Z',
    notAfter: null,
    publishAt: '2026-01-04T00:00:00.000Z',
    retireAt: null,
  },
] as unknown as KeyEntry[]
const invalid = [{ kid: 'd-bad', why: 'its times do not parse', revoked: true }]

/** ringVersion of the entries above, with and without the invalid entry (computed when pinned). */
const PINNED_WITH_INVALID = 133_292_268_480_051
const PINNED = 259_088_258_835_150
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

describe('the ring encodings', () => {
  it("give the MAC's canonical text exactly as stored MACs were made", () => {
    const text = canonicalRing(7, entries, invalid)
    expect(text).toBe(
      '["sealed-search ring",7,[' +
        '["a-p256",1,"P-256","active","2026-01-01T00:00:00.000Z",null,null,"2026-06-01T10:00:00.000Z","pkcs11",["sealed","a-p256"]],' +
        '["b-x25519",2,"X25519","retired","2026-01-02T03:04:05.000Z","2026-02-01T00:00:00.000Z",null,null,null,null,"2026-03-01T00:00:00.000Z",null],' +
        '["c-xwing",3,"X-Wing","pending","2026-01-03T00:00:00.000Z",null,"2026-01-04T00:00:00.000Z",null,null,null]' +
        '],[["d-bad",true]]]',
    )
    expect(sha256(text)).toBe(sha256(canonicalRing(7, [...entries].reverse(), invalid)))
  })

  it('give the ring version every instance compares', () => {
    expect(ringVersion(entries, invalid)).toBe(PINNED_WITH_INVALID)
    expect(ringVersion(entries)).toBe(PINNED)
    expect(ringVersion([])).toBe(0)
  })
})
