import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { childEnv } from '../../support/process.js'
import { softHsmMissing } from '../../support/softhsm.js'

const exec = promisify(execFile)

// A smoke run keeps the script working; it asserts the table's shape, never a time.
describe('npm run bench:decrypt', () => {
  it('prints one table with every JWE row, the ECDH limits, and a verdict per target', async () => {
    const { stdout } = await exec(
      process.execPath,
      [
        'node_modules/tsx/dist/cli.mjs',
        'scripts/bench-decrypt.ts',
        '--seconds',
        '0.2',
        '--tokens',
        '20',
      ],
      { env: childEnv({}) },
    )
    const [head, targets] = stdout.split('\ntargets\n') as [string, string]
    const lines = head.split('\n').filter(Boolean)
    const header = lines.findIndex((l) =>
      /^row\s+gateway\/s\s+jose\/s\s+gateway÷jose\s+of ECDH limit\s+wall: gateway\/s\s+jose\/s\s+of OpenSSL$/.test(
        l,
      ),
    )
    expect(header).toBeGreaterThan(0)
    const rows = new Map(
      lines.slice(header + 1).map((l) => {
        const cells = l.split(/\s{2,}/)
        return [cells[0]!, cells.slice(1)] as const
      }),
    )
    const count = /^\d{1,3}(,\d{3})*$/
    for (const name of [
      'JWE ECDH-ES P-256',
      'JWE ECDH-ES X25519',
      'JWE ECDH-ES+A256KW P-256',
      'JWE ECDH-ES+A256KW X25519',
    ]) {
      const [gateway, jose, ratio, ofLimit, wallGateway, wallJose] = rows.get(name) ?? []
      expect(gateway).toMatch(count)
      expect(jose).toMatch(count)
      expect(ratio).toMatch(/^\d+\.\d{2}x$/)
      expect(ofLimit).toMatch(/^\d+%$/)
      expect(wallGateway).toMatch(count)
      expect(wallJose).toMatch(count)
    }
    for (const name of ['ECDH limit P-256 (computeSecret)', 'ECDH limit X25519 (diffieHellman)']) {
      expect(rows.get(name)?.[0]).toMatch(count)
      expect(rows.get(name)?.[4]).toMatch(count)
    }
    // OpenSSL's own rate in the same run, and each row's share of it.
    for (const name of [
      'OpenSSL ceiling P-256 (openssl speed)',
      'OpenSSL ceiling X25519 (openssl speed)',
    ]) {
      expect(rows.get(name)?.[0]).toMatch(count)
      expect(rows.get(name)?.at(-1)).toBe('100%')
    }
    expect(rows.get('JWE ECDH-ES P-256')?.at(-1)).toMatch(/^\d+%$/)
    // The key in a SoftHSM2 token, where SoftHSM2 and pkcs11js are installed (.ci/run).
    if (softHsmMissing() === undefined) {
      for (const name of [
        'JWE ECDH-ES P-256 (PKCS#11, SoftHSM2)',
        'HPKE P-256 (PKCS#11, SoftHSM2)',
        // The same token's own C_DeriveKey rate, measured by the same script.
        'PKCS#11 limit P-256 (C_DeriveKey, SoftHSM2)',
      ]) {
        expect(rows.get(name)?.[0]).toMatch(count)
      }
    }
    // HPKE rows appear when the gateway opens HPKE tokens; no jose column for them.
    for (const [name, cells] of rows) {
      if (name.startsWith('HPKE ')) expect(cells.slice(1, 3)).toEqual(['-', '-'])
    }
    // The hybrid token, and ML-KEM-768 decapsulation in the two implementations compared.
    for (const name of [
      'HPKE X-Wing (hybrid)',
      'ML-KEM-768 decaps (liboqs WASM)',
      'ML-KEM-768 decaps (noble, JS)',
    ]) {
      expect(rows.get(name)?.[0]).toMatch(count)
      expect(rows.get(name)?.[4]).toMatch(count)
    }
    const verdicts = targets.split('\n').filter(Boolean)
    // Six against jose and the ECDH limit, one per curve against OpenSSL, the hybrid token's
    // rate, and with a token, the PKCS#11 path against the token's own rate.
    const hsm = softHsmMissing() === undefined
    expect(verdicts).toHaveLength(hsm ? 10 : 9)
    for (const crv of ['P-256', 'X25519']) {
      expect(verdicts.some((v) => v.includes(`JWE ECDH-ES ${crv} >= 50% of OpenSSL `))).toBe(true)
    }
    if (hsm) {
      expect(
        verdicts.some((v) =>
          v.includes('JWE ECDH-ES P-256 (PKCS#11, SoftHSM2) >= 50% of C_DeriveKey '),
        ),
      ).toBe(true)
    }
    expect(verdicts.some((v) => /^ {2}HPKE X-Wing \(hybrid\) >= 5,000\/s /.test(v))).toBe(true)
    const value = '(\\d+\\.\\d{2}x|\\d+%|\\d{1,3}(?:,\\d{3})*)'
    const verdict = new RegExp(` >= .+\\s${value}\\s+(PASS|MISS) {2}\\(wall clock: ${value}\\)$`)
    for (const v of verdicts) expect(v).toMatch(verdict)
  }, 180_000)
})
