/**
 * The README's error table says what the gateway answers: every token error code is in it, and
 * each token or search error code listed has the HTTP status its row gives.
 */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { TokenError, type TokenErrorCode } from '../../src/crypto/errors.js'
import { classify } from '../../src/http/outcome-errors.js'
import { SearchError } from '../../src/search/errors.js'
import type { SearchErrorCode } from '../../src/search/index.js'

/** The rows of the table under "### Errors": status and the codes in its second column. */
async function errorTable(): Promise<{ status: number; codes: string[]; when: string }[]> {
  const readme = await readFile('README.md', 'utf8')
  const section = readme.slice(readme.indexOf('### Errors'), readme.indexOf('## Commands'))
  return section
    .split('\n')
    .filter((l) => /^\| \d{3} /.test(l))
    .map((l) => {
      const [, status, codes, when] = l.split('|').map((c) => c.trim())
      return {
        status: Number(status),
        codes: [...codes!.matchAll(/`(ERR_[A-Z_]+)`/g)].map((m) => m[1]!),
        when: when!,
      }
    })
}

/** Every code of the TokenErrorCode union, read from its source. */
async function tokenCodes(): Promise<TokenErrorCode[]> {
  const source = await readFile('src/crypto/errors.ts', 'utf8')
  const union = source.slice(
    source.indexOf('export type TokenErrorCode'),
    source.indexOf('const MESSAGES'),
  )
  return [...union.matchAll(/'(ERR_TOKEN_[A-Z_]+)'/g)].map((m) => m[1] as TokenErrorCode)
}

describe("the README's error table", () => {
  it('lists every token error code a client can see', async () => {
    const listed = new Set((await errorTable()).flatMap((r) => r.codes))
    const codes = await tokenCodes()
    expect(codes.length).toBeGreaterThan(15)
    // ERR_TOKEN_KEY_NOT_ACCEPTED answers as ERR_TOKEN_KID_UNKNOWN: the key's state is not told.
    const seen = codes.filter((c) => c !== 'ERR_TOKEN_KEY_NOT_ACCEPTED')
    expect(seen.filter((c) => !listed.has(c))).toEqual([])
  })

  it('gives each token and search error the status the gateway answers with', async () => {
    const rows = await errorTable()
    const tokens = new Set<string>(await tokenCodes())
    let checked = 0
    for (const row of rows) {
      for (const code of row.codes) {
        let error: unknown
        if (tokens.has(code)) error = new TokenError(code as TokenErrorCode)
        else if (/^ERR_(IDENTIFIER|PLAINTEXT|MULTIPLE|DB_UNAVAILABLE|KEYS_RING_STALE)/.test(code)) {
          error = new SearchError(code as SearchErrorCode, 'invalid', 'x')
        } else continue
        expect(classify(error).error.status, code).toBe(row.status)
        expect(classify(error).error.code, code).toBe(code)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(20)
  })

  it('says a bound HPKE token over another connection answers ERR_TOKEN_DECRYPTION_FAILED', async () => {
    const rows = await errorTable()
    const mismatch = rows.find((r) => r.codes.includes('ERR_TOKEN_SENDER_MISMATCH'))!
    expect(mismatch.status).toBe(403)
    expect(mismatch.when).toMatch(/JWE/)
    const failed = rows.find((r) => r.codes.includes('ERR_TOKEN_DECRYPTION_FAILED'))!
    expect(failed.status).toBe(400)
    expect(failed.when).toMatch(/sender-bound HPKE token/)
  })
})
