import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { TokenError } from '../../src/crypto/errors.js'
import { openToken } from '../../src/crypto/token.js'
import { findByHicn } from '../../src/db/beneficiaries.js'
import {
  AMBIGUOUS_BENE_IDS,
  AMBIGUOUS_HICN,
  HICN_NONE_EVERY,
  seed,
  seededBeneId,
  seededHicn,
  seededMbi,
} from '../../src/db/seed.js'
import { normalizeHicn, syntheticHicn } from '../../src/identifiers/hicn.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { HICN_MASK, maskMbis } from '../../src/log/mask.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import {
  errorCodeOf,
  expectNoneOf,
  HICN_ENCRYPTED,
  parityApp,
  post,
  SEARCH,
  type FhirJson,
} from '../support/parity.js'
import { jweFor } from '../support/tokens.js'

const COUNT = 30
const NOW = new Date()
const NOW_S = Math.floor(NOW.getTime() / 1000)
let db: TestDatabase
let ring: KeyRing
let p256: RingKey
let x25519: RingKey

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: COUNT })
  ring = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  x25519 = ring.keys.find((k) => k.crv === 'X25519')!
})
afterAll(() => db?.close())

function seededHicns(): string[] {
  const out: string[] = [AMBIGUOUS_HICN]
  for (let i = 0; i < COUNT; i++) {
    const h = seededHicn(i)
    if (h) out.push(h)
  }
  return out
}

const ids = (b: FhirJson) => (b.entry ?? []).map((e) => e.resource.id)

async function refusal(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TokenError)
  return (error as TokenError).code
}

describe('the HICN format (9 digits, then a 1-2 character BIC starting with a letter)', () => {
  it.each([
    ['123456789A', '123456789A'],
    ['123456789B1', '123456789B1'],
    ['123456789HA', '123456789HA'],
    ['123456789c2', '123456789C2'],
    ['900000001B', '900000001B'],
  ])('accepts %s as %s', (input, canonical) => {
    expect(normalizeHicn(input)).toBe(canonical)
  })

  it.each([
    ['8 digits', '12345678A'],
    ['10 digits', '1234567890A'],
    ['no BIC', '123456789'],
    ['a BIC starting with a digit', '1234567891'],
    ['a three-character BIC', '123456789ABC'],
    ['a railroad board number', 'A123456'],
    ['the dashed print form', '123-45-6789A'],
    ['a leading space', ' 123456789A'],
    ['an MBI', '1EG4TE5MK73'],
  ])('refuses %s', (_what, input) => {
    expect(normalizeHicn(input)).toBeUndefined()
  })

  it('makes distinct, well-formed synthetic HICNs that start with 9', () => {
    const made = Array.from({ length: 500 }, (_, i) => syntheticHicn(i * 199_999))
    expect(new Set(made).size).toBe(made.length)
    for (const h of made) {
      expect(normalizeHicn(h)).toBe(h)
      expect(h[0]).toBe('9')
    }
    expect(() => syntheticHicn(100_000_000)).toThrow(RangeError)
    expect(() => syntheticHicn(-1)).toThrow(RangeError)
  })

  it('is masked in log lines, bare, dashed or in a query', () => {
    const masked = maskMbis('a 123456789A b 123-45-6789c1 c ?identifier=x%7C900000001B&x=1')
    expect(masked).toBe(`a ${HICN_MASK} b ${HICN_MASK} c ?identifier=x%7C${HICN_MASK}&x=1`)
  })
})

describe('openToken(token, ring, now, "hicn")', () => {
  const HICN = '123456789A'

  it('opens a JWE holding a bare HICN, with either key and algorithm', async () => {
    const a = await openToken(await jweFor(p256, HICN.toLowerCase()), ring, NOW, 'hicn')
    expect(a.hicn).toBe(HICN)
    const b = await openToken(
      await jweFor(x25519, HICN, { alg: 'ECDH-ES+A256KW' }),
      ring,
      NOW,
      'hicn',
    )
    expect(b.hicn).toBe(HICN)
    expect(b).not.toHaveProperty('mbi')
  })

  it('opens the claims form {"hicn","iat","exp"} and enforces exp', async () => {
    const claims = JSON.stringify({ hicn: HICN, iat: NOW_S, exp: NOW_S + 60 })
    expect(await openToken(await jweFor(p256, claims), ring, NOW, 'hicn')).toMatchObject({
      hicn: HICN,
      exp: NOW_S + 60,
    })
    const old = JSON.stringify({ hicn: HICN, exp: NOW_S - 3600 })
    expect(await refusal(openToken(await jweFor(p256, old), ring, NOW, 'hicn'))).toBe(
      'ERR_TOKEN_EXPIRED',
    )
  })

  it('refuses an MBI where a HICN is expected, and a HICN where an MBI is', async () => {
    const mbiToken = await jweFor(p256, seededMbi(1))
    expect(await refusal(openToken(mbiToken, ring, NOW, 'hicn'))).toBe(
      'ERR_TOKEN_IDENTIFIER_INVALID',
    )
    expect(await refusal(openToken(await jweFor(p256, HICN), ring, NOW))).toBe(
      'ERR_TOKEN_IDENTIFIER_INVALID',
    )
  })

  it('refuses the claim of the other kind', async () => {
    const asMbi = JSON.stringify({ mbi: seededMbi(1) })
    expect(await refusal(openToken(await jweFor(p256, asMbi), ring, NOW, 'hicn'))).toBe(
      'ERR_TOKEN_CLAIMS_INVALID',
    )
    const asHicn = JSON.stringify({ hicn: HICN })
    expect(await refusal(openToken(await jweFor(p256, asHicn), ring, NOW))).toBe(
      'ERR_TOKEN_CLAIMS_INVALID',
    )
  })

  it('still expects an MBI when no kind is given', async () => {
    expect((await openToken(await jweFor(p256, seededMbi(2)), ring, NOW)).mbi).toBe(seededMbi(2))
  })
})

describe(`hicn_unhashed (${realServer ? 'PostgreSQL server' : 'embedded'})`, () => {
  it('is a varchar(11) column of beneficiaries, with an index', async () => {
    const [col] = await db.sql`
      select data_type, character_maximum_length from information_schema.columns
      where table_schema = current_schema() and table_name = 'beneficiaries'
        and column_name = 'hicn_unhashed'`
    expect(col).toEqual({ data_type: 'character varying', character_maximum_length: 11 })
    const idx = await db.sql`
      select 1 from pg_indexes where schemaname = current_schema()
        and indexdef like '%beneficiaries USING btree (hicn_unhashed)%'`
    expect(idx).toHaveLength(1)
  })

  it('holds the seeded synthetic HICNs; every seventh beneficiary has none', async () => {
    const rows = await db.sql<{ bene_id: string; hicn_unhashed: string | null }[]>`
      select bene_id::text, hicn_unhashed from beneficiaries where bene_id in ${db.sql([
        seededBeneId(0),
        seededBeneId(5),
        seededBeneId(HICN_NONE_EVERY - 1),
      ])} order by beneficiaries.bene_id desc`
    expect(rows.map((r) => r.hicn_unhashed)).toEqual([seededHicn(0), seededHicn(5), null])
    expect(seededHicn(HICN_NONE_EVERY - 1)).toBeUndefined()
  })

  it('finds by HICN exactly, and never picks one of two that share a HICN', async () => {
    const one = await findByHicn(db.sql, seededHicn(4)!)
    expect(one.kind === 'one' && one.beneficiary.beneId).toBe(seededBeneId(4))
    expect(await findByHicn(db.sql, syntheticHicn(HICN_NONE_EVERY - 1))).toEqual({ kind: 'none' })
    expect(await findByHicn(db.sql, AMBIGUOUS_HICN)).toEqual({ kind: 'ambiguous', count: 2 })
  })

  it('seeding again fills a missing HICN and keeps every other value as it was', async () => {
    const id = seededBeneId(8)
    await db.sql`update beneficiaries set hicn_unhashed = null, bene_srnm_name = 'Kept'
      where bene_id = ${id}`
    await seed(db.sql, { count: 10 })
    const [row] = await db.sql`
      select hicn_unhashed, bene_srnm_name, mbi_num from beneficiaries where bene_id = ${id}`
    expect(row).toEqual({
      hicn_unhashed: seededHicn(8),
      bene_srnm_name: 'Kept',
      mbi_num: seededMbi(8),
    })
  })
})

describe('search by encrypted HICN, when enabled', () => {
  let gw: ReturnType<typeof parityApp>
  beforeAll(() => {
    gw = parityApp(ring, db.sql, { hicnSearch: true })
  })
  const get = async (token: string) =>
    gw.request(`/v2/fhir/Patient?identifier=${HICN_ENCRYPTED}%7C${token}`)

  it('finds the Patient whose HICN the token holds', async () => {
    const r = await get(await jweFor(p256, seededHicn(3)!))
    expect(r.status).toBe(200)
    expect(ids(r.json())).toEqual([seededBeneId(3)])
  })

  it('accepts the claims form with an X25519 key, and by POST', async () => {
    const claims = JSON.stringify({ hicn: seededHicn(9), iat: NOW_S, exp: NOW_S + 120 })
    const token = await jweFor(x25519, claims)
    const r = await gw.request(SEARCH, post({ identifier: `${HICN_ENCRYPTED}|${token}` }))
    expect(ids(r.json())).toEqual([seededBeneId(9)])
  })

  it('links with the ciphertext only', async () => {
    const token = await jweFor(p256, seededHicn(10)!)
    const body = (await get(token)).json()
    expect(body.link!.map((l) => l.relation)).toEqual(['self', 'first', 'last'])
    for (const l of body.link!) {
      expect(l.url).toContain(`${HICN_ENCRYPTED}%7C${token}`)
      expect(l.url).not.toContain(seededHicn(10))
    }
  })

  it('returns total 0 for a HICN nobody has', async () => {
    const r = await get(await jweFor(p256, syntheticHicn(HICN_NONE_EVERY - 1)))
    expect(r.json().total).toBe(0)
  })

  it('answers a HICN two beneficiaries share with 409, naming neither', async () => {
    const r = await get(await jweFor(p256, AMBIGUOUS_HICN))
    expect([r.status, errorCodeOf(r.json())]).toEqual([409, 'ERR_MULTIPLE_MATCHES'])
    for (const s of [AMBIGUOUS_HICN, ...AMBIGUOUS_BENE_IDS]) expect(r.text).not.toContain(s)
  })

  it('refuses an encrypted MBI on the HICN system, and a malformed HICN, without echoing', async () => {
    for (const plaintext of [seededMbi(1), '12345678X', '123456789ABC']) {
      const r = await get(await jweFor(p256, plaintext))
      expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_TOKEN_IDENTIFIER_INVALID'])
      expect(r.text).not.toContain(plaintext)
    }
  })

  it('advertises the system in the CapabilityStatement', async () => {
    expect((await gw.request('/v2/fhir/metadata')).text).toContain('hicn-encrypted')
  })

  it('masks a plaintext HICN sent in a URL in the access log', async () => {
    const hicn = seededHicn(11)!
    const r = await gw.request(
      `/v2/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-medicare|${hicn}`,
    )
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_IDENTIFIER_SYSTEM_UNSUPPORTED'])
    expect(r.text).not.toContain(hicn)
    const line = gw.lines.filter((l) => l.includes('us-medicare')).at(-1)!
    expect(line).toContain(HICN_MASK)
    expect(line).not.toContain(hicn)
  })

  it('writes no plaintext HICN or MBI to any log line, audit record, link, header or error', () => {
    expect(gw.lines.length).toBeGreaterThan(8)
    const mbis = Array.from({ length: COUNT }, (_, i) => seededMbi(i))
    expectNoneOf([...gw.lines, ...gw.audit], [...seededHicns(), ...mbis])
    // A Patient resource carries no HICN at all.
    expectNoneOf(
      gw.responses.flatMap((r) => [r.headers, r.body]),
      seededHicns(),
    )
  })
})

describe('search by encrypted HICN, when disabled (the default)', () => {
  it('answers 400 "not enabled" without opening the token', async () => {
    const gw = parityApp(ring, db.sql)
    const token = await jweFor(p256, seededHicn(3)!)
    const r = await gw.request(`/v2/fhir/Patient?identifier=${HICN_ENCRYPTED}%7C${token}`)
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_IDENTIFIER_SYSTEM_NOT_ENABLED'])
    expect(r.json().issue![0]!.diagnostics).toMatch(/not enabled/)
    const metrics = await (await gw.app.request('/metrics')).text()
    expect(metrics).not.toMatch(/sealed_search_decryptions_total\{/)
    expect((await gw.request('/v2/fhir/metadata')).text).not.toContain('hicn-encrypted')
  })

  it('is configured by HICN_SEARCH_ENABLED, off by default', () => {
    expect(loadConfig({}).features.hicnSearch).toBe(false)
    expect(loadConfig({ HICN_SEARCH_ENABLED: 'true' }).features.hicnSearch).toBe(true)
    expect(() => loadConfig({ HICN_SEARCH_ENABLED: 'sometimes' })).toThrow(ConfigError)
  })
})
