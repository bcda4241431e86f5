import fc from 'fast-check'
import { encryptMbiJwe } from '@sealed-search/client'
import { TokenError } from '../../src/crypto/errors.js'
import { openToken } from '../../src/crypto/token.js'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'

/** Fuzz properties shared by the CI-sized test (test/crypto/fuzz.test.ts) and `npm run fuzz`. */

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const b64urlString = (max: number) =>
  fc.string({ unit: fc.constantFrom(...B64URL.split('')), maxLength: max })

/** Strings shaped like tokens: JWE-like five segments, HPKE-like single segments, and noise. */
export const tokenLike = fc.oneof(
  fc.string({ maxLength: 1200 }),
  fc.string({ maxLength: 200, unit: 'binary' }),
  fc
    .tuple(
      b64urlString(300),
      b64urlString(60),
      b64urlString(20),
      b64urlString(80),
      b64urlString(30),
    )
    .map((p) => p.join('.')),
  b64urlString(400),
)

/** A valid token with random edits: replaced, inserted and deleted characters. */
export function mutatedToken(ring: KeyRing) {
  const keys = ring.active()
  return fc
    .record({
      index: fc.integer({ min: 0, max: 10_000 }),
      key: fc.integer({ min: 0, max: keys.length - 1 }),
      alg: fc.constantFrom('ECDH-ES' as const, 'ECDH-ES+A256KW' as const),
      edits: fc.array(
        fc.record({
          at: fc.nat(),
          kind: fc.constantFrom('replace', 'insert', 'delete'),
          char: fc.constantFrom(...(B64URL + '.=+/{}"%').split('')),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    })
    .map(async ({ index, key, alg, edits }) => {
      let token = await encryptMbiJwe(syntheticMbi(index), keys[key]!.publicJwk, { alg })
      for (const e of edits) {
        const at = e.at % (token.length + 1)
        if (e.kind === 'replace') token = token.slice(0, at) + e.char + token.slice(at + 1)
        if (e.kind === 'insert') token = token.slice(0, at) + e.char + token.slice(at)
        if (e.kind === 'delete') token = token.slice(0, at) + token.slice(at + 1)
      }
      return token
    })
}

/** openToken either opens a token or throws a TokenError: never anything else. */
export async function opensOrRefusesCleanly(token: string, ring: KeyRing): Promise<void> {
  try {
    await openToken(token, ring, new Date())
  } catch (error) {
    if (!(error instanceof TokenError)) throw error
  }
}

/** Query strings a hostile client might send to the search route. */
export const hostileQuery = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.webQueryParameters(),
  fc
    .tuple(
      fc.constantFrom('identifier', '_format', 'x', '_id', 'identifier[]', ''),
      fc.string({ maxLength: 200 }),
    )
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`),
  fc
    .tuple(
      fc.constantFrom(
        'https://bluebutton.cms.gov/resources/identifier/mbi-encrypted',
        'http://hl7.org/fhir/sid/us-mbi',
        '',
      ),
      tokenLike,
    )
    .map(([system, t]) => `identifier=${encodeURIComponent(system)}%7C${encodeURIComponent(t)}`),
)

/** Client errors and results; 406 is a `_format` that is not JSON. */
export const ACCEPTABLE_STATUSES = new Set([200, 400, 404, 405, 406, 409, 413, 414, 415, 422])
