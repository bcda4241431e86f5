import { readFileSync } from 'node:fs'

/**
 * The only module that reads the environment. Each variable is validated once at start-up; a bad
 * value stops the process with a message that names the variable.
 */

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG'
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`)
    this.name = 'ConfigError'
  }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  /** Address the HTTP server binds to. */
  host: string
  port: number
  /** Base URL used in Bundle links, when set; else see baseUrl(). */
  publicBaseUrl: string | undefined
  /** PostgreSQL connection string; when absent the embedded database is used. */
  databaseUrl: string | undefined
  /** Schema holding the gateway's tables (PostgreSQL search_path); created when missing. */
  databaseSchema: string | undefined
  /** Where the embedded database keeps its files. */
  dataDir: string
  /** Synthetic beneficiaries loaded into an empty embedded database on first start. */
  seedCount: number
  /** Directory holding the key manifest and private JWKs. */
  keysDir: string
  /** Passphrase that seals private key files (KEYS_PASSPHRASE, or the file KEYS_PASSPHRASE_FILE). */
  keysPassphrase: string | undefined
  /** Watch the key directory and reload the ring on change (SIGHUP reloads too). */
  keysWatch: boolean
  /** Generate a development key pair when the key directory holds none. */
  autoGenerateKeys: boolean
  /** Cache-Control max-age of the published JWKS, in seconds. */
  jwksMaxAgeSeconds: number
  /** Most connections the gateway opens to PostgreSQL. */
  dbPoolSize: number
  /** Seconds to wait for a PostgreSQL connection before answering 503. */
  dbConnectTimeoutSeconds: number
  logLevel: LogLevel
}

type Env = Record<string, string | undefined>

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`)
  return value
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false
  throw new ConfigError(name, `expected true or false, got "${raw}"`)
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    // Do not echo the value: a connection string can hold a password.
    throw new ConfigError(name, 'is not a valid URL')
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.join(' or ')}`)
  }
  return raw
}

function passphrase(env: Env): string | undefined {
  if (env.KEYS_PASSPHRASE && env.KEYS_PASSPHRASE_FILE) {
    throw new ConfigError(
      'KEYS_PASSPHRASE_FILE',
      'set KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE, not both',
    )
  }
  if (env.KEYS_PASSPHRASE) return env.KEYS_PASSPHRASE
  const file = env.KEYS_PASSPHRASE_FILE
  if (!file) return undefined
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new ConfigError('KEYS_PASSPHRASE_FILE', `cannot read ${file}`)
  }
  const value = text.replace(/\r?\n$/, '')
  if (!value) throw new ConfigError('KEYS_PASSPHRASE_FILE', `${file} is empty`)
  return value
}

function schema(env: Env): string | undefined {
  const raw = env.DATABASE_SCHEMA
  if (raw === undefined || raw === '') return undefined
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) {
    throw new ConfigError('DATABASE_SCHEMA', 'must be a lower-case SQL identifier')
  }
  return raw
}

export function loadConfig(env: Env = process.env): Config {
  const host = env.HOST || '127.0.0.1'
  const port = integer(env, 'PORT', 8080, 0, 65535)
  const level = (env.LOG_LEVEL || 'info') as LogLevel
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`)
  }
  const base = url(env, 'PUBLIC_BASE_URL', ['http:', 'https:'])
  return {
    host,
    port,
    publicBaseUrl: base?.replace(/\/+$/, ''),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    databaseSchema: schema(env),
    dataDir: env.DATA_DIR || '.data/pglite',
    seedCount: integer(env, 'SEED_COUNT', 1000, 0, 10_000_000),
    keysDir: env.KEYS_DIR || 'keys',
    autoGenerateKeys: boolean(env, 'KEYS_AUTOGENERATE', true),
    keysPassphrase: passphrase(env),
    keysWatch: boolean(env, 'KEYS_WATCH', true),
    jwksMaxAgeSeconds: integer(env, 'JWKS_MAX_AGE', 300, 0, 86_400),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 200),
    dbConnectTimeoutSeconds: integer(env, 'DB_CONNECT_TIMEOUT', 5, 1, 120),
    logLevel: level,
  }
}

/** The gateway's base URL: PUBLIC_BASE_URL, else http://HOST:<port it listens on>. */
export function baseUrl(
  config: Pick<Config, 'publicBaseUrl' | 'host' | 'port'>,
  port = config.port,
) {
  if (config.publicBaseUrl) return config.publicBaseUrl
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  return `http://${host}:${port}`
}
