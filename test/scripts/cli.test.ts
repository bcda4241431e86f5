import { describe, expect, it } from 'vitest'
import { parse, UsageError } from '../../scripts/cli.js'

// Key ids are SHA-256 thumbprints in base64url: 43 characters, and 1 in 64 begins with `-`, 1 in
// 4,096 with `--` (as the one that made a revoke in a test fail).
const KID = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde'
const DASHED = `-${KID.slice(1)}`
const DOUBLE = `--${KID.slice(2)}`

describe('the scripts’ command line', () => {
  const options = {
    force: { type: 'boolean' as const },
    'publish-delay': { type: 'string' as const },
  }

  it('takes a key id that begins with - or -- as the argument it is, beside real options', () => {
    for (const kid of [KID, DASHED, DOUBLE]) {
      const { values, positionals } = parse(['revoke', kid, '--force'], options)
      expect(positionals).toEqual(['revoke', kid])
      expect(values.force).toBe(true)
    }
    expect(parse(['retire', DOUBLE, '--publish-delay', '60'], options).values).toMatchObject({
      'publish-delay': '60',
    })
    // After an explicit `--`, every argument is already positional.
    expect(parse(['revoke', '--', DOUBLE], options).positionals).toEqual(['revoke', DOUBLE])
  })

  it('still refuses an unknown option, whatever its length', () => {
    expect(() => parse(['revoke', KID, '--forse'], options)).toThrow(UsageError)
    expect(() => parse(['revoke', `--${'x'.repeat(40)}`], options)).toThrow(/Unknown option/)
  })
})
