import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seed } from '../../src/db/seed.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { testApp } from '../support/app.js'
import {
  ACCEPTABLE_STATUSES,
  hostileQuery,
  mutatedToken,
  opensOrRefusesCleanly,
  tokenLike,
} from '../support/fuzz.js'

// CI-sized runs; `npm run fuzz` runs the same properties for much longer.
const RUNS = 150

let db: TestDatabase
let ring: KeyRing
beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 20 })
  ring = (await twoKeyRing()).ring
})
afterAll(() => db?.close())

describe('fuzzing the token parser', () => {
  it('refuses arbitrary token-like strings with a TokenError only', async () => {
    await fc.assert(
      fc.asyncProperty(tokenLike, (t) => opensOrRefusesCleanly(t, ring)),
      {
        numRuns: RUNS * 4,
      },
    )
  })

  it('refuses edited valid tokens with a TokenError only', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedToken(ring), async (t) => opensOrRefusesCleanly(await t, ring)),
      { numRuns: RUNS },
    )
  })
})

describe('fuzzing the search route', () => {
  it('never answers 5xx and always answers FHIR JSON', async () => {
    const { app } = testApp(ring, db.sql)
    await fc.assert(
      fc.asyncProperty(hostileQuery, async (query) => {
        const res = await app.request(`/v2/fhir/Patient?${query}`)
        const body = (await res.json()) as { resourceType: string }
        expect(ACCEPTABLE_STATUSES.has(res.status)).toBe(true)
        expect(['Bundle', 'OperationOutcome']).toContain(body.resourceType)
      }),
      { numRuns: RUNS },
    )
  })
})
