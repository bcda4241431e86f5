import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

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
  /** Seconds a lookup may take before the search answers 503. */
  dbQueryTimeoutSeconds: number
  logLevel: LogLevel
  /** Replay window: require `exp` in tokens, at most `maxLifetimeSeconds` after `iat` (or now). */
  tokenPolicy: { requireExp: boolean; maxLifetimeSeconds: number }
  /** Audit records: `stdout`, `stderr` or a file path (appended, mode 0600). */
  auditLog: string
  /** HMAC-SHA256 key for the MBI fingerprints in audit records; random per process when unset. */
  auditHmacKey: Buffer | undefined
  /** HTTPS with required client certificates (mTLS), when set. */
  tls: TlsConfig | undefined
  /** Legacy `mbi-hash` search (deprecated; LEGACY_HASH_ENABLED): served only when set. */
  legacyHash: LegacyHashConfig | undefined
  /** Encrypted HICN search (`hicn-encrypted`; HICN_SEARCH_ENABLED), off by default. */
  hicnSearch: boolean
  /** Worker processes sharing the port (CLUSTER_WORKERS); 0 runs the gateway in this process. */
  clusterWorkers: number
}

export interface LegacyHashConfig {
  /** When the path ends (RFC 8594 `Sunset`); LEGACY_HASH_SUNSET, required when enabled. */
  sunset: Date
  /** Since when it is deprecated (RFC 9745 `Deprecation`); LEGACY_HASH_DEPRECATION, optional. */
  deprecation: Date | undefined
}

export interface TlsConfig {
  certFile: string
  keyFile: string
  /** CA bundle that client certificates must chain to. */
  clientCaFile: string
  /** SHA-256 fingerprints (upper-case hex, colon-separated) of the client certificates served. */
  clientAllowlist: string[]
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

/**
 * A secret given as NAME or as the file NAME_FILE (one of the two), with the file's final line
 * break removed; `source` names the variable it came from, for error messages. Never echoed.
 */
function secret(env: Env, name: string): { value: string; source: string } | undefined {
  const file = env[`${name}_FILE`]
  if (env[name] && file) {
    throw new ConfigError(`${name}_FILE`, `set ${name} or ${name}_FILE, not both`)
  }
  if (env[name]) return { value: env[name], source: name }
  if (!file) return undefined
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new ConfigError(`${name}_FILE`, `cannot read ${file}`)
  }
  const value = text.replace(/\r?\n$/, '')
  if (!value) throw new ConfigError(`${name}_FILE`, `${file} is empty`)
  return { value, source: `${name}_FILE` }
}

function passphrase(env: Env): string | undefined {
  return secret(env, 'KEYS_PASSPHRASE')?.value
}

/** A secret of at least 32 bytes, hex-encoded, from NAME or from the file NAME_FILE. */
function secretBytes(env: Env, name: string): Buffer | undefined {
  const found = secret(env, name)
  if (!found) return undefined
  const raw = found.value.trim()
  if (!/^([0-9a-fA-F]{2}){32,}$/.test(raw)) {
    throw new ConfigError(found.source, 'must be at least 32 bytes, hex-encoded (64+ hex digits)')
  }
  return Buffer.from(raw, 'hex')
}

function tls(env: Env): TlsConfig | undefined {
  const names = ['TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_CLIENT_CA_FILE', 'TLS_CLIENT_ALLOWLIST']
  const set = names.filter((n) => env[n])
  if (set.length === 0) return undefined
  const missing = names.filter((n) => !env[n])
  if (missing.length) {
    throw new ConfigError(missing[0]!, `mTLS needs all of ${names.join(', ')}`)
  }
  const clientAllowlist = env
    .TLS_CLIENT_ALLOWLIST!.split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => {
      const hex = f.replace(/:/g, '').toUpperCase()
      if (!/^[0-9A-F]{64}$/.test(hex)) {
        throw new ConfigError(
          'TLS_CLIENT_ALLOWLIST',
          'entries must be SHA-256 fingerprints (64 hex digits)',
        )
      }
      return hex.match(/../g)!.join(':')
    })
  return {
    certFile: env.TLS_CERT_FILE!,
    keyFile: env.TLS_KEY_FILE!,
    clientCaFile: env.TLS_CLIENT_CA_FILE!,
    clientAllowlist,
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const HTTP_DATE = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${MONTHS.join('|')}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`,
)
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z)?$/

/**
 * A date given as an HTTP-date (RFC 9110 §5.6.7 IMF-fixdate, `Wed, 30 Jun 2027 00:00:00 GMT`), an
 * ISO 8601 date (`2027-06-30`, midnight UTC) or UTC date-time (`2027-06-30T12:00:00Z`). Checked
 * by writing it back: `2027-02-30` or a wrong weekday is refused, not rolled over.
 */
function date(env: Env, name: string): Date | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  const http = HTTP_DATE.exec(raw)
  let value: Date | undefined
  if (http) {
    const [, d, mon, y, h, mi, sec] = http
    value = new Date(Date.UTC(+y!, MONTHS.indexOf(mon!), +d!, +h!, +mi!, +sec!))
    if (value.toUTCString() !== raw) value = undefined
  } else if (ISO_DATE.test(raw)) {
    value = new Date(raw.length === 10 ? `${raw}T00:00:00.000Z` : raw)
    const back = Number.isNaN(value.getTime()) ? '' : value.toISOString()
    if (!back.startsWith(raw.replace(/Z$/, ''))) value = undefined
  }
  if (!value) {
    throw new ConfigError(
      name,
      `expected an HTTP-date (Wed, 30 Jun 2027 00:00:00 GMT) or an ISO date (2027-06-30), got "${raw}"`,
    )
  }
  return value
}

/** The legacy mbi-hash search: off unless LEGACY_HASH_ENABLED; then LEGACY_HASH_SUNSET is required. */
function legacyHash(env: Env): LegacyHashConfig | undefined {
  const enabled = boolean(env, 'LEGACY_HASH_ENABLED', false)
  const sunset = date(env, 'LEGACY_HASH_SUNSET')
  const deprecation = date(env, 'LEGACY_HASH_DEPRECATION')
  if (!enabled) return undefined
  if (!sunset) {
    throw new ConfigError(
      'LEGACY_HASH_SUNSET',
      'required when LEGACY_HASH_ENABLED is true: the date the mbi-hash search ends',
    )
  }
  // RFC 9745 §2.1 / RFC 8594 §3: a resource is deprecated before (or when) it is sunset.
  if (deprecation && deprecation > sunset) {
    throw new ConfigError('LEGACY_HASH_DEPRECATION', 'must not be later than LEGACY_HASH_SUNSET')
  }
  return { sunset, deprecation }
}

/**
 * The pepper for `npm run legacy-hash`, from LEGACY_HASH_PEPPER or the file LEGACY_HASH_PEPPER_FILE:
 * hex-encoded bytes. Only the legacy-hash script reads it; the gateway never needs it. The value
 * is never echoed in an error.
 */
export function legacyHashPepper(env: Env = process.env): Buffer | undefined {
  const found = secret(env, 'LEGACY_HASH_PEPPER')
  if (!found) return undefined
  const raw = found.value.trim()
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(raw)) {
    throw new ConfigError(found.source, 'must be hex-encoded bytes')
  }
  return Buffer.from(raw, 'hex')
}

function schema(env: Env): string | undefined {
  const raw = env.DATABASE_SCHEMA
  if (raw === undefined || raw === '') return undefined
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) {
    throw new ConfigError('DATABASE_SCHEMA', 'must be a lower-case SQL identifier')
  }
  return raw
}

/**
 * CLUSTER_WORKERS: unset or 0 for one process, `auto` for one worker per core, or a count. The
 * embedded database is single-process (PGlite), so workers need DATABASE_URL.
 */
function clusterWorkers(env: Env): number {
  const raw = env.CLUSTER_WORKERS
  if (raw && raw !== 'auto' && !/^\d+$/.test(raw)) {
    throw new ConfigError('CLUSTER_WORKERS', `expected auto or a whole number, got "${raw}"`)
  }
  const workers =
    raw === 'auto' ? availableParallelism() : integer(env, 'CLUSTER_WORKERS', 0, 0, 256)
  if (workers > 0 && !env.DATABASE_URL) {
    throw new ConfigError(
      'CLUSTER_WORKERS',
      'cluster mode needs DATABASE_URL: the embedded database serves one process only',
    )
  }
  return workers
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
    dbQueryTimeoutSeconds: integer(env, 'DB_QUERY_TIMEOUT', 10, 1, 600),
    logLevel: level,
    tokenPolicy: {
      requireExp: boolean(env, 'TOKEN_REQUIRE_EXP', false),
      maxLifetimeSeconds: integer(env, 'TOKEN_MAX_LIFETIME', 300, 1, 86_400),
    },
    auditLog: env.AUDIT_LOG || 'stdout',
    auditHmacKey: secretBytes(env, 'AUDIT_HMAC_KEY'),
    tls: tls(env),
    legacyHash: legacyHash(env),
    hicnSearch: boolean(env, 'HICN_SEARCH_ENABLED', false),
    clusterWorkers: clusterWorkers(env),
  }
}

/** The gateway's base URL: PUBLIC_BASE_URL, else http(s)://HOST:<port it listens on>. */
export function baseUrl(
  config: Pick<Config, 'publicBaseUrl' | 'host' | 'port'> & { tls?: TlsConfig | undefined },
  port = config.port,
) {
  if (config.publicBaseUrl) return config.publicBaseUrl
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  return `${config.tls ? 'https' : 'http'}://${host}:${port}`
}
