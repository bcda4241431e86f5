import { describe, expect, it } from 'vitest'
import { TokenError, type TokenErrorCode } from '../../src/crypto/errors.js'
import { classify } from '../../src/http/outcome-errors.js'

describe('the FHIR issue type of a refused token', () => {
  it.each<[TokenErrorCode, string]>([
    ['ERR_TOKEN_FORMAT_UNSUPPORTED', 'not-supported'],
    ['ERR_TOKEN_ALG_UNSUPPORTED', 'not-supported'],
    ['ERR_TOKEN_SUITE_UNSUPPORTED', 'not-supported'],
    ['ERR_TOKEN_KEM_MISMATCH', 'not-supported'],
    ['ERR_TOKEN_DECRYPTION_FAILED', 'invalid'],
  ])('answers %s with issue type %s', (code, issue) => {
    const { error } = classify(new TokenError(code))
    expect(error).toMatchObject({ status: 400, issueType: issue, code })
  })
})
