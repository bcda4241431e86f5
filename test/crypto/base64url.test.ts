import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBase64url } from '../../src/crypto/base64url.js'
import { TokenError } from '../../src/crypto/errors.js'

/** The definition the decoder must keep: the alphabet, and one spelling per byte string. */
function referenceAccepts(text: string): boolean {
  return (
    /^[A-Za-z0-9_-]*$/.test(text) &&
    text.length % 4 !== 1 &&
    Buffer.from(text, 'base64url').toString('base64url') === text
  )
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const alphabetText = fc
  .array(fc.constantFrom(...ALPHABET), { maxLength: 64 })
  .map((chars) => chars.join(''))

function decodes(text: string): boolean {
  try {
    decodeBase64url(text)
    return true
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError)
    expect((error as TokenError).code).toBe('ERR_TOKEN_MALFORMED')
    return false
  }
}

describe('decodeBase64url', () => {
  it('decodes every byte string from its one spelling', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64url')
        expect([...decodeBase64url(text)]).toEqual([...bytes])
      }),
    )
  })

  it('accepts exactly the canonical spellings, as re-encoding and comparing would', () => {
    fc.assert(
      fc.property(alphabetText, (text) => {
        expect(decodes(text)).toBe(referenceAccepts(text))
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses a set spare bit in the last character, a padded text and a foreign character', () => {
    // "AB" holds one byte in 12 bits: B (000001) sets one of the 4 spare bits.
    expect(decodes('AA')).toBe(true)
    expect(decodes('AB')).toBe(false)
    // "AAB" holds two bytes in 18 bits: B sets one of the 2 spare bits, E (000100) none.
    expect(decodes('AAE')).toBe(true)
    expect(decodes('AAB')).toBe(false)
    expect(decodes('AA==')).toBe(false)
    expect(decodes('AA+/')).toBe(false)
    expect(decodes('AAAAA')).toBe(false)
  })
})
