import { describe, expect, it } from 'vitest'
import { SYSTEM } from '../../src/fhir/systems.js'
import { seededMbi } from '../../src/db/seed.js'
import {
  MAX_IDENTIFIER_LENGTH,
  parseIdentifier,
  SearchError,
  type SearchErrorCode,
} from '../../src/search/index.js'

function refusal(value: string, source: 'url' | 'body' = 'url'): SearchError {
  try {
    parseIdentifier(value, source)
  } catch (error) {
    expect(error).toBeInstanceOf(SearchError)
    return error as SearchError
  }
  throw new Error('accepted')
}

describe('parseIdentifier', () => {
  it('splits each supported system from its value', () => {
    expect(parseIdentifier(`${SYSTEM.mbiEncrypted}|a.b.c.d.e`, 'url')).toEqual({
      system: 'mbi-encrypted',
      token: 'a.b.c.d.e',
    })
    expect(parseIdentifier(`${SYSTEM.hicnEncrypted}|tok`, 'url')).toEqual({
      system: 'hicn-encrypted',
      token: 'tok',
    })
    expect(parseIdentifier(`${SYSTEM.mbiHash}|${'AB'.repeat(32)}`, 'url')).toEqual({
      system: 'mbi-hash',
      hash: 'ab'.repeat(32),
    })
  })

  it('takes a plaintext MBI from a body, normalised, and never from a URL', () => {
    const mbi = seededMbi(7)
    const spaced = `${mbi.slice(0, 4)}-${mbi.slice(4, 7)}-${mbi.slice(7)}`.toLowerCase()
    expect(parseIdentifier(`${SYSTEM.mbi}|${spaced}`, 'body')).toEqual({ system: 'us-mbi', mbi })
    const error = refusal(`${SYSTEM.mbi}|${mbi}`, 'url')
    expect(error.code).toBe('ERR_PLAINTEXT_IN_URL')
    expect(error.message).not.toContain(mbi)
  })

  const refused: [string, string, SearchErrorCode, string][] = [
    ['no system', 'abc', 'ERR_IDENTIFIER_MALFORMED', 'invalid'],
    [
      'too long',
      `${SYSTEM.mbiEncrypted}|${'a'.repeat(MAX_IDENTIFIER_LENGTH)}`,
      'ERR_IDENTIFIER_MALFORMED',
      'too-long',
    ],
    ['a short hash', `${SYSTEM.mbiHash}|abc`, 'ERR_IDENTIFIER_MALFORMED', 'invalid'],
    ['an unknown system', 'urn:x|y', 'ERR_IDENTIFIER_SYSTEM_UNSUPPORTED', 'not-supported'],
  ]
  it.each(refused)('refuses %s with a stable code and issue type', (_, value, code, issue) => {
    const error = refusal(value)
    expect(error.code).toBe(code)
    expect(error.issue).toBe(issue)
  })

  it('refuses a malformed plaintext MBI without echoing it', () => {
    const error = refusal(`${SYSTEM.mbi}|1SQ0-XX`, 'body')
    expect(error.code).toBe('ERR_IDENTIFIER_INVALID')
    expect(error.message).not.toContain('1SQ0')
  })
})
