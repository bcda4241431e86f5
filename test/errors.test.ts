import { describe, expect, it } from 'vitest'
import { UsageError } from '../scripts/cli.js'
import { WorkerStartError } from '../src/cluster.js'
import { ConfigError } from '../src/config/index.js'
import { TokenError } from '../src/crypto/errors.js'
import { HpkeError } from '../src/crypto/hpke/errors.js'
import { DatabaseError } from '../src/db/errors.js'
import { LegacyHashError } from '../src/db/legacy-hash.js'
import { isSealedSearchError, SealedSearchError } from '../src/errors.js'
import { HttpError } from '../src/http/errors.js'
import { KeyStoreError } from '../src/keys/errors.js'
import { SearchError } from '../src/search/errors.js'

describe('the error base', () => {
  const cause = new Error('underlying')
  const cases: [SealedSearchError, string, string][] = [
    [new ConfigError('PORT', 'bad', { cause }), 'ConfigError', 'ERR_CONFIG'],
    [
      new TokenError('ERR_TOKEN_DECRYPTION_FAILED', { cause }),
      'TokenError',
      'ERR_TOKEN_DECRYPTION_FAILED',
    ],
    [new HpkeError('ERR_HPKE_OPEN', { cause }), 'HpkeError', 'ERR_HPKE_OPEN'],
    [new KeyStoreError('ERR_KEYS_STATE', 'x', { cause }), 'KeyStoreError', 'ERR_KEYS_STATE'],
    [
      new DatabaseError('ERR_DB_UNAVAILABLE', 'x', { cause }),
      'DatabaseError',
      'ERR_DB_UNAVAILABLE',
    ],
    [new HttpError(404, 'not-found', 'ERR_NOT_FOUND', 'x'), 'HttpError', 'ERR_NOT_FOUND'],
    [
      new LegacyHashError('ERR_LEGACY_HASH_PARAMS_MISMATCH', 'x'),
      'LegacyHashError',
      'ERR_LEGACY_HASH_PARAMS_MISMATCH',
    ],
    [new WorkerStartError(), 'WorkerStartError', 'ERR_CLUSTER_WORKER_START'],
    [
      new SearchError('ERR_MULTIPLE_MATCHES', 'multiple-matches', 'x'),
      'SearchError',
      'ERR_MULTIPLE_MATCHES',
    ],
    [new UsageError('x'), 'UsageError', 'ERR_USAGE'],
  ]

  it.each(cases)('is the base of %s, which keeps its name and its code', (error, name, code) => {
    expect(error).toBeInstanceOf(SealedSearchError)
    expect(error).toBeInstanceOf(Error)
    expect(isSealedSearchError(error)).toBe(true)
    expect(error.name).toBe(name)
    expect(error.code).toBe(code)
  })

  it('keeps the original error as cause', () => {
    for (const [error] of cases.slice(0, 5)) expect(error.cause).toBe(cause)
    expect('cause' in new TokenError('ERR_TOKEN_MALFORMED')).toBe(false)
  })

  it('is not the base of errors from elsewhere', () => {
    expect(isSealedSearchError(new Error('x'))).toBe(false)
    expect(isSealedSearchError(Object.assign(new Error('x'), { code: 'ERR_CONFIG' }))).toBe(false)
  })
})
