import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { baseUrl, ConfigError, legacyHashPepper, loadConfig } from '../src/config/index.js'
import { tempDir } from './support/keys.js'

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return e as ConfigError
  }
  throw new Error('accepted')
}

describe('configuration', () => {
  it('has working defaults for a fresh checkout', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      databaseUrl: undefined,
      dataDir: '.data/pglite',
      keysDir: 'keys',
      autoGenerateKeys: true,
      tokenPolicy: { requireExp: false, maxLifetimeSeconds: 300 },
      tls: undefined,
    })
    expect(baseUrl(c)).toBe('http://127.0.0.1:8080')
    expect(baseUrl(c, 9999)).toBe('http://127.0.0.1:9999')
  })

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_SCHEMA: 'Robert"; drop' }, 'DATABASE_SCHEMA'],
    [{ KEYS_AUTOGENERATE: 'perhaps' }, 'KEYS_AUTOGENERATE'],
    [{ AUDIT_HMAC_KEY: 'abcd' }, 'AUDIT_HMAC_KEY'],
    [{ KEYS_PASSPHRASE: 'a', KEYS_PASSPHRASE_FILE: '/x' }, 'KEYS_PASSPHRASE_FILE'],
  ])('refuses %j, naming %s', (env, variable) => {
    const e = refusal(env)
    expect(e.variable).toBe(variable)
    expect(e.message.startsWith(`${variable}:`)).toBe(true)
  })

  it('never echoes a secret or a connection string in its errors', () => {
    expect(refusal({ AUDIT_HMAC_KEY: 'secret-value-zz' }).message).not.toContain('secret-value-zz')
    expect(refusal({ DATABASE_URL: 'nota url with p4ssw0rd' }).message).not.toContain('p4ssw0rd')
  })

  it('reads secrets from files, without the final line break', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'hmac'), 'ab'.repeat(32) + '\n')
    await writeFile(join(dir, 'pepper'), '00ff\n')
    await writeFile(join(dir, 'empty'), '')
    expect(loadConfig({ AUDIT_HMAC_KEY_FILE: join(dir, 'hmac') }).auditHmacKey).toEqual(
      Buffer.alloc(32, 0xab),
    )
    expect(legacyHashPepper({ LEGACY_HASH_PEPPER_FILE: join(dir, 'pepper') })).toEqual(
      Buffer.from([0, 255]),
    )
    expect(refusal({ KEYS_PASSPHRASE_FILE: join(dir, 'empty') }).variable).toBe(
      'KEYS_PASSPHRASE_FILE',
    )
    expect(refusal({ AUDIT_HMAC_KEY_FILE: join(dir, 'missing') }).variable).toBe(
      'AUDIT_HMAC_KEY_FILE',
    )
  })

  it('uses https in the base URL when mTLS is on, and PUBLIC_BASE_URL when set', () => {
    const tls = {
      TLS_CERT_FILE: 'c',
      TLS_KEY_FILE: 'k',
      TLS_CLIENT_CA_FILE: 'ca',
      TLS_CLIENT_ALLOWLIST: 'ab'.repeat(32),
    }
    const c = loadConfig(tls)
    expect(baseUrl(c)).toBe('https://127.0.0.1:8080')
    expect(c.tls!.clientAllowlist).toEqual([Array(32).fill('AB').join(':')])
    expect(baseUrl(loadConfig({ PUBLIC_BASE_URL: 'https://gw.example/' }))).toBe(
      'https://gw.example',
    )
  })
})
