/**
 * What the repository tracks: no Python bytecode (a `__pycache__` written by a test run), and
 * git ignores such files wherever a run writes them.
 */
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8' })

describe('tracked files', () => {
  it('tracks no Python bytecode', () => {
    const files = git(['ls-files', '-z']).split('\0').filter(Boolean)
    expect(files.length).toBeGreaterThan(100)
    expect(files.filter((f) => /(^|\/)__pycache__\/|\.py[co]$/.test(f))).toEqual([])
  })

  it('ignores private key files, and the temporary files of their writes, wherever they are', () => {
    for (const path of [
      'elsewhere/abc.private.jwk.json',
      'elsewhere/abc.private.jwk.jwe',
      'elsewhere/abc.private.jwk.json.0123456789ab.tmp',
      'elsewhere/abc.private.jwk.jwe.0123456789ab.tmp',
    ]) {
      expect(git(['check-ignore', '--no-index', path]).trim()).toBe(path)
    }
  })

  it('ignores a __pycache__ written beside the interoperability scripts', () => {
    const path = 'test/interop/__pycache__/jwcrypto_encrypt.cpython-311.pyc'
    expect(git(['check-ignore', '--no-index', path]).trim()).toBe(path)
  })
})
