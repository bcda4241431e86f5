/**
 * The Python client states the packages it needs (clients/python/requirements.txt) and checks
 * them when imported: under an interpreter without them (python3 -S: no site packages), the
 * command is one line naming what is missing, the interpreter and how to install, and exit 1;
 * an import is an ImportError with the same message.
 */
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const PYTHON = '/usr/bin/python3'
const PACKAGE = fileURLToPath(new URL('../../../clients/python/', import.meta.url))
const CI = process.env.CI === 'true'
const probe = spawnSync(PYTHON, ['-E', '-s', '-c', 'import jwcrypto.jwe, cryptography'], {
  encoding: 'utf8',
})
const missing =
  probe.error?.message ?? (probe.status === 0 ? undefined : 'jwcrypto or cryptography')

const python = (args: string[]) =>
  spawnSync(PYTHON, args, { cwd: PACKAGE, encoding: 'utf8', input: '' })

describe('the Python client without its packages', () => {
  it('lists them in requirements.txt', async () => {
    const text = await readFile(`${PACKAGE}requirements.txt`, 'utf8')
    expect(text).toMatch(/^jwcrypto>=1\.0$/m)
    expect(text).toMatch(/^cryptography>=38$/m)
  })

  it('says as a command which packages are missing, in one line, and exits 1', () => {
    // -S: no site directory, so neither Debian's nor pip's packages are found.
    const r = python(['-E', '-S', '-m', 'sealed_search_client', 'encrypt', '--jwks', 'x.json'])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^error: /), ''])
    expect(r.stderr).toContain('jwcrypto (not installed), cryptography (not installed)')
    expect(r.stderr).toContain(PYTHON)
    expect(r.stderr).toContain('apt-get install python3-jwcrypto python3-cryptography')
    expect(r.stderr).toContain('-m pip install -r clients/python/requirements.txt')
  })

  it('raises an ImportError with the same message when imported', () => {
    const r = python(['-E', '-S', '-c', 'import sealed_search_client'])
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/ImportError: sealed_search_client needs the Python packages/)
  })
})

describe.skipIf(Boolean(missing) && !CI)(
  `the Python client with its packages${missing ? ` (skipped: ${missing} missing for ${PYTHON})` : ''}`,
  () => {
    it('finds nothing missing, and names a version that is too old', () => {
      const code = [
        'from sealed_search_client import _requirements as r',
        'print(r.missing_packages())',
        "r.REQUIRED['cryptography'] = (999, 0)",
        'print(r.missing_packages())',
      ].join('\n')
      const r = python(['-E', '-s', '-c', code])
      expect(r.stderr).toBe('')
      const [now, tooOld] = r.stdout.trim().split('\n')
      expect(now).toBe('[]')
      expect(tooOld).toMatch(/^\['cryptography \(version \d+\.\d+; needs 999\.0 or later\)'\]$/)
    })
  },
)
