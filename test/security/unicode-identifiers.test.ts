/**
 * No Unicode spelling of a beneficiary's identifier ever finds the beneficiary: case-folding
 * pairs (U+017F `ſ` for S, `ß` for SS), full-width digits, zero-width characters, combining
 * marks and confusables, sent in a JWE, in an HPKE token and in a POST form body.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seed, seededBeneId, seededHicn, seededMbi } from '../../src/db/seed.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { spoofed } from '../support/lookalikes.js'
import { HICN_ENCRYPTED, parityApp, post, SEARCH, US_MBI } from '../support/parity.js'
import { searchPath } from '../support/app.js'
import { hpkeFor, jweFor } from '../support/tokens.js'

const COUNT = 20
let db: TestDatabase
let ring: KeyRing
let gw: ReturnType<typeof parityApp>
let p256: RingKey
let x25519: RingKey

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: COUNT })
  ring = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  x25519 = ring.keys.find((k) => k.crv === 'X25519')!
  gw = parityApp(ring, db.sql, { hicnSearch: true })
})
afterAll(async () => {
  await db.close()
})

const index = fc.nat({ max: COUNT - 1 })
const claims = (kind: 'mbi' | 'hicn', value: string) => JSON.stringify({ [kind]: value })

/** Status and error code of a search; a 200 would carry the matched bene_ids. */
async function answer(path: string, init?: RequestInit): Promise<string> {
  const r = await gw.request(path, init)
  if (r.status === 200) return `200 ${JSON.stringify(r.json().entry ?? [])}`
  return `${r.status} ${r.json().issue?.[0]?.details?.coding?.[0]?.code}`
}

describe(`Unicode spellings of an identifier (${realServer ? 'PostgreSQL server' : 'embedded'})`, () => {
  it('the controls: the ASCII spellings find the beneficiary by JWE, HPKE and POST', async () => {
    const mbi = seededMbi(1).toLowerCase()
    const found = new RegExp(`^200 .*"id":"${seededBeneId(1)}"`)
    expect(await answer(searchPath(await jweFor(p256, claims('mbi', mbi))))).toMatch(found)
    expect(await answer(searchPath(await hpkeFor(x25519, claims('mbi', mbi))))).toMatch(found)
    expect(await answer(SEARCH, post({ identifier: `${US_MBI}|${mbi}` }))).toMatch(found)
  })

  it('1ſ00… (U+017F) finds nobody by JWE, HPKE or POST', async () => {
    const spoof = seededMbi(0).replace(/^1S/, '1\u017f')
    expect(spoof).not.toBe(seededMbi(0))
    const token = '400 ERR_TOKEN_IDENTIFIER_INVALID'
    expect(await answer(searchPath(await jweFor(p256, claims('mbi', spoof))))).toBe(token)
    expect(await answer(searchPath(await hpkeFor(x25519, claims('mbi', spoof))))).toBe(token)
    expect(await answer(SEARCH, post({ identifier: `${US_MBI}|${spoof}` }))).toBe(
      '400 ERR_IDENTIFIER_INVALID',
    )
  })

  it('a HICN spelled with ß finds nobody', async () => {
    // The first seeded HICN ending in one letter; `ß` would upper-case to two.
    const hicn = seededHicn(0)!
    const spoof = `${hicn.slice(0, 9)}\u00df`
    const path = `/v2/fhir/Patient?identifier=${encodeURIComponent(HICN_ENCRYPTED)}%7C`
    expect(await answer(path + (await jweFor(p256, claims('hicn', spoof))))).toBe(
      '400 ERR_TOKEN_IDENTIFIER_INVALID',
    )
  })

  it('no spoofed spelling of a seeded MBI ever matches, by JWE, HPKE or POST', async () => {
    await fc.assert(
      fc.asyncProperty(
        index.chain((i) => spoofed(seededMbi(i))),
        async (spoof) => {
          const jwe = await answer(searchPath(await jweFor(p256, claims('mbi', spoof))))
          const hpke = await answer(searchPath(await hpkeFor(x25519, claims('mbi', spoof))))
          const form = await answer(SEARCH, post({ identifier: `${US_MBI}|${spoof}` }))
          expect([jwe, hpke, form]).toEqual([
            '400 ERR_TOKEN_IDENTIFIER_INVALID',
            '400 ERR_TOKEN_IDENTIFIER_INVALID',
            '400 ERR_IDENTIFIER_INVALID',
          ])
        },
      ),
      { numRuns: 60 },
    )
  })
})
