import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { KeyStoreError } from '../../src/keys/errors.js'
import { thumbprint, toPublicJwk } from '../../src/keys/jwk.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import {
  MANIFEST_FILE,
  isAccepted,
  parseManifest,
  readManifest,
} from '../../src/keys/stores/manifest.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import vector from '../vectors/rfc7638-thumbprint.json' with { type: 'json' }
import { tempDir } from '../support/keys.js'

async function keyStoreCode(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(KeyStoreError)
    return (e as KeyStoreError).code
  }
  throw new Error('no error')
}

describe('key ids', () => {
  it('computes the RFC 7638 §3.1 example thumbprint', async () => {
    expect(await thumbprint(vector.jwk)).toBe(vector.thumbprint)
  })

  it.each(['P-256', 'X25519'] as const)(
    'names a generated %s key by its thumbprint',
    async (crv) => {
      const dir = await tempDir()
      const entry = await addGeneratedKey(dir, crv)
      const jwk = JSON.parse(await readFile(join(dir, entry.file), 'utf8'))
      expect(entry.kid).toBe(await thumbprint(toPublicJwk(jwk)))
      expect(entry.kid).toMatch(/^[A-Za-z0-9_-]{43}$/)
    },
  )
})

describe('the key directory', () => {
  it('writes private keys with mode 0600 and records them as active', async () => {
    const dir = await tempDir()
    const entry = await addGeneratedKey(dir, 'P-256')
    expect((await stat(join(dir, entry.file))).mode & 0o777).toBe(0o600)
    const manifest = await readManifest(dir)
    expect(manifest.keys).toEqual([
      expect.objectContaining({ kid: entry.kid, state: 'active', crv: 'P-256', notAfter: null }),
    ])
  })

  it('loads a ring whose public JWKS has no private member', async () => {
    const dir = await tempDir()
    await addGeneratedKey(dir, 'P-256')
    await addGeneratedKey(dir, 'X25519')
    const ring = await loadKeyRing(dir)
    expect(ring.keys).toHaveLength(2)
    const text = JSON.stringify(ring.jwks())
    expect(text).not.toContain('"d"')
    expect(
      ring
        .jwks()
        .keys.map((k) => k.crv)
        .sort(),
    ).toEqual(['P-256', 'X25519'])
  })

  it.each([0o640, 0o604, 0o644])(
    'refuses a private key file with mode %o, naming the file',
    async (mode) => {
      const dir = await tempDir()
      const entry = await addGeneratedKey(dir, 'P-256')
      await chmod(join(dir, entry.file), mode)
      const error = await loadKeyRing(dir).catch((e: unknown) => e as KeyStoreError)
      expect((error as KeyStoreError).code).toBe('ERR_KEYS_FILE_PERMISSIONS')
      expect((error as KeyStoreError).message).toContain(entry.file)
    },
  )

  it('refuses a key file whose kid is not its thumbprint', async () => {
    const dir = await tempDir()
    const a = await addGeneratedKey(dir, 'P-256')
    const b = await addGeneratedKey(dir, 'P-256')
    // Put b's key material in a's file, under a's kid.
    const fb = JSON.parse(await readFile(join(dir, b.file), 'utf8'))
    await writeFile(join(dir, a.file), JSON.stringify({ ...fb, kid: a.kid }), { mode: 0o600 })
    expect(await keyStoreCode(loadKeyRing(dir))).toBe('ERR_KEYS_KID_MISMATCH')
  })

  it.each(['P-256', 'X25519'] as const)(
    'refuses a %s key file whose d is not the private key of its x, naming the file',
    async (crv) => {
      const dir = await tempDir()
      const a = await addGeneratedKey(dir, crv)
      const b = await addGeneratedKey(dir, crv)
      // a's public members and kid (so the thumbprint check passes) with b's private scalar.
      const fa = JSON.parse(await readFile(join(dir, a.file), 'utf8'))
      const fb = JSON.parse(await readFile(join(dir, b.file), 'utf8'))
      await writeFile(join(dir, a.file), JSON.stringify({ ...fa, d: fb.d }), { mode: 0o600 })
      const error = await loadKeyRing(dir).catch((e: unknown) => e as KeyStoreError)
      expect(error).toBeInstanceOf(KeyStoreError)
      expect((error as KeyStoreError).code).toBe('ERR_KEYS_KID_MISMATCH')
      expect((error as KeyStoreError).message).toContain(a.file)
    },
  )

  it('refuses a missing key file', async () => {
    const dir = await tempDir()
    const manifest = {
      version: 1,
      keys: [
        {
          kid: 'abc',
          crv: 'P-256',
          state: 'active',
          created: '2026-01-01T00:00:00Z',
          notAfter: null,
          file: 'abc.private.jwk.json',
        },
      ],
    }
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest))
    expect(await keyStoreCode(loadKeyRing(dir))).toBe('ERR_KEYS_FILE_MISSING')
  })

  it.each([
    ['not JSON', '{'],
    ['a wrong version', '{"version":2,"keys":[]}'],
    [
      'an unknown state',
      '{"version":1,"keys":[{"kid":"a","crv":"P-256","state":"sleeping","created":"2026-01-01T00:00:00Z","notAfter":null,"file":"a.private.jwk.json"}]}',
    ],
    [
      'a retiring key without notAfter',
      '{"version":1,"keys":[{"kid":"a","crv":"P-256","state":"retiring","created":"2026-01-01T00:00:00Z","notAfter":null,"file":"a.private.jwk.json"}]}',
    ],
    [
      'a file outside the directory',
      '{"version":1,"keys":[{"kid":"a","crv":"P-256","state":"active","created":"2026-01-01T00:00:00Z","notAfter":null,"file":"../a.private.jwk.json"}]}',
    ],
    [
      'an unsupported curve',
      '{"version":1,"keys":[{"kid":"a","crv":"P-384","state":"active","created":"2026-01-01T00:00:00Z","notAfter":null,"file":"a.private.jwk.json"}]}',
    ],
    [
      'a PKCS#11 key without its token references',
      '{"version":1,"keys":[{"kid":"a","crv":"P-256","state":"active","created":"2026-01-01T00:00:00Z","notAfter":null,"file":"a.public.jwk.json","backend":"pkcs11"}]}',
    ],
    [
      'a PKCS#11 key with a private key file',
      '{"version":1,"keys":[{"kid":"a","crv":"P-256","state":"active","created":"2026-01-01T00:00:00Z","notAfter":null,"file":"a.private.jwk.json","backend":"pkcs11","pkcs11":{"token":"t","id":"a"}}]}',
    ],
    [
      'token references on a key file',
      '{"version":1,"keys":[{"kid":"a","crv":"P-256","state":"active","created":"2026-01-01T00:00:00Z","notAfter":null,"file":"a.private.jwk.json","pkcs11":{"token":"t","id":"a"}}]}',
    ],
    [
      'an unknown backend',
      '{"version":1,"keys":[{"kid":"a","crv":"P-256","state":"active","created":"2026-01-01T00:00:00Z","notAfter":null,"file":"a.private.jwk.json","backend":"kms"}]}',
    ],
  ])('refuses a manifest with %s', (_what, text) => {
    expect(() => parseManifest(text)).toThrow(
      expect.objectContaining({ code: 'ERR_KEYS_MANIFEST_INVALID' }),
    )
  })
})

it('reads a PKCS#11 key of a manifest: its backend and token references', () => {
  const text =
    '{"version":1,"keys":[{"kid":"a","crv":"P-256","state":"active","created":"2026-01-01T00:00:00Z","notAfter":null,"file":"a.public.jwk.json","backend":"pkcs11","pkcs11":{"token":"gw token","id":"a"}}]}'
  expect(parseManifest(text).keys[0]).toMatchObject({
    backend: 'pkcs11',
    pkcs11: { token: 'gw token', id: 'a' },
  })
})

describe('key states', () => {
  const now = new Date('2026-06-01T00:00:00Z')
  it.each([
    ['active', null, true],
    ['retiring', '2026-06-02T00:00:00Z', true],
    ['retiring', '2026-05-31T00:00:00Z', false],
    ['retired', null, false],
    ['revoked', null, false],
  ] as const)('%s (notAfter %s) is accepted: %s', (state, notAfter, accepted) => {
    expect(isAccepted({ state, notAfter }, now)).toBe(accepted)
  })
})
