import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  baseUrl,
  ConfigError,
  legacyHashPepper,
  loadConfig,
  SECTIONS,
} from '../../src/config/index.js'
import { tempDir } from '../support/keys.js'

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return e as ConfigError
  }
  throw new Error('accepted')
}

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

describe('configuration', () => {
  it('has working defaults for a fresh checkout, in its sections', () => {
    const c = loadConfig({})
    expect(Object.keys(c)).toEqual([...SECTIONS])
    expect(c).toEqual({
      server: {
        host: '127.0.0.1',
        port: 8080,
        publicBaseUrl: undefined,
        logLevel: 'info',
        logHealthChecks: false,
        logFlushMs: 50,
        otlpEndpoint: undefined,
      },
      db: {
        url: undefined,
        readUrl: undefined,
        schema: undefined,
        dataDir: '.data/pglite',
        seedCount: 1000,
        poolSize: 10,
        connectTimeoutSeconds: 5,
        queryTimeoutSeconds: 10,
        idleTimeoutSeconds: 30,
        maxLifetimeSeconds: 1800,
      },
      keys: {
        dir: 'keys',
        autoGenerate: true,
        passphrase: undefined,
        watch: true,
        jwksMaxAgeSeconds: 300,
        store: 'dir',
        pollIntervalSeconds: 5,
        failClosedAfterSeconds: 30,
        staleReadySeconds: 300,
        maxClockSkewSeconds: 2,
        destroyAfterSeconds: 0,
      },
      tokens: {
        requireExp: false,
        maxLifetimeSeconds: 300,
        requireSenderBinding: false,
        requirePq: false,
      },
      audit: { log: 'stdout', hmacKey: undefined },
      tls: undefined,
      features: { legacyHash: undefined, hicnSearch: false },
      cluster: { workers: 0 },
    })
    expect(baseUrl(c)).toBe('http://127.0.0.1:8080')
    expect(baseUrl(c, 9999)).toBe('http://127.0.0.1:9999')
  })

  it('puts each variable in its section', () => {
    const c = loadConfig({
      HOST: '::1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: 'postgres://u@127.0.0.1/db',
      DATABASE_SCHEMA: 'gw',
      DB_POOL_SIZE: '3',
      DB_CONNECT_TIMEOUT: '7',
      DB_QUERY_TIMEOUT: '9',
      KEYS_DIR: '/k',
      KEYS_AUTOGENERATE: 'false',
      KEYS_PASSPHRASE: 'pass',
      KEYS_WATCH: 'off',
      JWKS_MAX_AGE: '60',
      KEYS_MAX_CLOCK_SKEW: '5',
      TOKEN_REQUIRE_EXP: 'yes',
      TOKEN_MAX_LIFETIME: '30',
      AUDIT_LOG: 'stderr',
      HICN_SEARCH_ENABLED: '1',
      CLUSTER_WORKERS: '2',
      LOG_HEALTH_CHECKS: 'true',
      LOG_FLUSH_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/',
    })
    expect(c.server).toEqual({
      host: '::1',
      port: 0,
      publicBaseUrl: undefined,
      logLevel: 'warn',
      logHealthChecks: true,
      logFlushMs: 0,
      otlpEndpoint: 'http://127.0.0.1:4318',
    })
    expect(c.db).toMatchObject({ url: 'postgres://u@127.0.0.1/db', schema: 'gw', poolSize: 3 })
    expect(c.db).toMatchObject({ connectTimeoutSeconds: 7, queryTimeoutSeconds: 9 })
    expect(c.keys).toEqual({
      dir: '/k',
      autoGenerate: false,
      passphrase: 'pass',
      watch: false,
      jwksMaxAgeSeconds: 60,
      store: 'dir',
      pollIntervalSeconds: 5,
      failClosedAfterSeconds: 30,
      staleReadySeconds: 300,
      maxClockSkewSeconds: 5,
      destroyAfterSeconds: 0,
    })
    expect(c.tokens).toEqual({
      requireExp: true,
      maxLifetimeSeconds: 30,
      requireSenderBinding: false,
      requirePq: false,
    })
    expect(c.audit.log).toBe('stderr')
    expect(c.features.hicnSearch).toBe(true)
    expect(c.cluster.workers).toBe(2)
    expect(baseUrl(c, 1234)).toBe('http://[::1]:1234')
  })

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_SCHEMA: 'Robert"; drop' }, 'DATABASE_SCHEMA'],
    [{ KEYS_AUTOGENERATE: 'perhaps' }, 'KEYS_AUTOGENERATE'],
    [{ KEYS_WATCH: 'sometimes' }, 'KEYS_WATCH'],
    [{ AUDIT_HMAC_KEY: 'abcd' }, 'AUDIT_HMAC_KEY'],
    [{ KEYS_PASSPHRASE: 'a', KEYS_PASSPHRASE_FILE: '/x' }, 'KEYS_PASSPHRASE_FILE'],
    [{ CLUSTER_WORKERS: 'many' }, 'CLUSTER_WORKERS'],
    [{ KEYS_MAX_CLOCK_SKEW: '0' }, 'KEYS_MAX_CLOCK_SKEW'],
    [{ KEYS_FAIL_CLOSED_AFTER: '0' }, 'KEYS_FAIL_CLOSED_AFTER'],
    [{ KEYS_POLL_INTERVAL: '30' }, 'KEYS_FAIL_CLOSED_AFTER'],
    [{ KEYS_POLL_INTERVAL: '10', KEYS_FAIL_CLOSED_AFTER: '10' }, 'KEYS_FAIL_CLOSED_AFTER'],
  ])('refuses %j, naming %s', (env, variable) => {
    const e = refusal(env)
    expect(e.variable).toBe(variable)
    expect(e.code).toBe('ERR_CONFIG')
    expect(e.message.startsWith(`${variable}:`)).toBe(true)
  })

  it('quotes a refused value that is not secret, to help the operator', () => {
    expect(refusal({ PORT: 'eighty' }).message).toBe('PORT: expected a whole number, got "eighty"')
  })

  it('never echoes a secret or a connection string in its errors', () => {
    expect(refusal({ AUDIT_HMAC_KEY: 'secret-value-zz' }).message).not.toContain('secret-value-zz')
    expect(refusal({ DATABASE_URL: 'nota url with p4ssw0rd' }).message).not.toContain('p4ssw0rd')
  })

  it('reads secrets from files, without the final line break', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    await writeFile(join(dir, 'hmac'), 'ab'.repeat(32) + '\n', { mode: 0o600 })
    await writeFile(join(dir, 'pepper'), '00ff\n', { mode: 0o600 })
    await writeFile(join(dir, 'pass'), 'two words\r\n', { mode: 0o600 })
    await writeFile(join(dir, 'empty'), '', { mode: 0o600 })
    expect(loadConfig({ AUDIT_HMAC_KEY_FILE: join(dir, 'hmac') }).audit.hmacKey).toEqual(
      Buffer.alloc(32, 0xab),
    )
    expect(legacyHashPepper({ LEGACY_HASH_PEPPER_FILE: join(dir, 'pepper') })).toEqual(
      Buffer.from([0, 255]),
    )
    expect(loadConfig({ KEYS_PASSPHRASE_FILE: join(dir, 'pass') }).keys.passphrase).toBe(
      'two words',
    )
    expect(refusal({ KEYS_PASSPHRASE_FILE: join(dir, 'empty') }).variable).toBe(
      'KEYS_PASSPHRASE_FILE',
    )
    const missing = refusal({ AUDIT_HMAC_KEY_FILE: join(dir, 'missing') })
    expect(missing.variable).toBe('AUDIT_HMAC_KEY_FILE')
    expect((missing.cause as NodeJS.ErrnoException).code).toBe('ENOENT')
  })

  it('takes a PKCS#11 token as module, label and PIN (or its file) together, or none', async () => {
    expect(loadConfig({}).keys.pkcs11).toBeUndefined()
    const dir = await tempDir()
    dirs.push(dir)
    await writeFile(join(dir, 'pin'), '1234-pin-zz\n', { mode: 0o600 })
    const token = { PKCS11_MODULE: '/lib/p11.so', PKCS11_TOKEN_LABEL: 'gw' }
    expect(loadConfig({ ...token, PKCS11_PIN_FILE: join(dir, 'pin') }).keys.pkcs11).toEqual({
      module: '/lib/p11.so',
      tokenLabel: 'gw',
      pin: '1234-pin-zz',
      sessions: 4,
    })
    const partial = refusal({ ...token })
    expect(partial.variable).toBe('PKCS11_PIN')
    expect(refusal({ PKCS11_PIN: '1234-pin-zz' }).message).not.toContain('1234-pin-zz')
    expect(refusal({ PKCS11_SESSIONS: '0' }).variable).toBe('PKCS11_SESSIONS')
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
    expect(c.tls).toEqual({
      certFile: 'c',
      keyFile: 'k',
      clientCaFile: 'ca',
      clientAllowlist: [Array(32).fill('AB').join(':')],
      boundClients: [],
      pqClients: [],
    })
    expect(baseUrl(loadConfig({ PUBLIC_BASE_URL: 'https://gw.example/' }))).toBe(
      'https://gw.example',
    )
  })

  it('reads allowlist entries marked =bound as clients that must send sender-bound tokens', () => {
    const a = 'ab'.repeat(32)
    const b = 'CD:'.repeat(31) + 'CD'
    const c = loadConfig({
      TLS_CERT_FILE: 'c',
      TLS_KEY_FILE: 'k',
      TLS_CLIENT_CA_FILE: 'ca',
      TLS_CLIENT_ALLOWLIST: `${a}, ${b} = bound`,
      TOKEN_REQUIRE_SENDER_BINDING: 'true',
    })
    expect(c.tls?.clientAllowlist).toEqual([Array(32).fill('AB').join(':'), b])
    expect(c.tls?.boundClients).toEqual([b])
    expect(c.tokens.requireSenderBinding).toBe(true)
    for (const bad of [`${a}=bond`, `${a}=bound=bound`, `${a}=`]) {
      expect(() =>
        loadConfig({
          TLS_CERT_FILE: 'c',
          TLS_KEY_FILE: 'k',
          TLS_CLIENT_CA_FILE: 'ca',
          TLS_CLIENT_ALLOWLIST: bad,
        }),
      ).toThrow(/^TLS_CLIENT_ALLOWLIST: /)
    }
  })

  it('reads TOKEN_REQUIRE_PQ, and allowlist entries marked =pq and =bound+pq', () => {
    const a = 'AB:'.repeat(31) + 'AB'
    const b = 'CD:'.repeat(31) + 'CD'
    const e = 'EF:'.repeat(31) + 'EF'
    const c = loadConfig({
      TLS_CERT_FILE: 'c',
      TLS_KEY_FILE: 'k',
      TLS_CLIENT_CA_FILE: 'ca',
      TLS_CLIENT_ALLOWLIST: `${a}=pq, ${b}=bound+pq, ${e}=bound`,
      TOKEN_REQUIRE_PQ: 'true',
    })
    expect(c.tokens.requirePq).toBe(true)
    expect(c.tls?.pqClients).toEqual([a, b])
    expect(c.tls?.boundClients).toEqual([b, e])
    expect(loadConfig({}).tokens.requirePq).toBe(false)
    expect(() => loadConfig({ TOKEN_REQUIRE_PQ: 'yes please' })).toThrow(/^TOKEN_REQUIRE_PQ: /)
    for (const bad of [`${a}=pq+bound`, `${a}=PQ`]) {
      expect(() =>
        loadConfig({
          TLS_CERT_FILE: 'c',
          TLS_KEY_FILE: 'k',
          TLS_CLIENT_CA_FILE: 'ca',
          TLS_CLIENT_ALLOWLIST: bad,
        }),
      ).toThrow(/^TLS_CLIENT_ALLOWLIST: /)
    }
  })

  it('refuses TOKEN_REQUIRE_SENDER_BINDING without mTLS, naming the variable', () => {
    expect(() => loadConfig({ TOKEN_REQUIRE_SENDER_BINDING: 'true' })).toThrow(
      /^TOKEN_REQUIRE_SENDER_BINDING: sender binding needs mTLS/,
    )
    expect(loadConfig({ TOKEN_REQUIRE_SENDER_BINDING: 'false' }).tokens.requireSenderBinding).toBe(
      false,
    )
  })
})
