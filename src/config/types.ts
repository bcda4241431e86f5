/** The configuration's shape: one section per concern, each taken whole by the code it serves. */

export const SECTIONS = [
  'server',
  'db',
  'keys',
  'tokens',
  'audit',
  'tls',
  'features',
  'cluster',
] as const

export type SectionName = (typeof SECTIONS)[number]

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export type LogLevel = (typeof LOG_LEVELS)[number]

export interface ServerConfig {
  /** Address the HTTP server binds to. */
  host: string
  port: number
  /** Base URL used in Bundle links, when set; else see baseUrl(). */
  publicBaseUrl: string | undefined
  logLevel: LogLevel
  /** Log successful health checks too (LOG_HEALTH_CHECKS); failed ones are always logged. */
  logHealthChecks: boolean
  /** Longest the access log and the audit trail hold a line before writing (LOG_FLUSH_MS). */
  logFlushMs: number
  /** OpenTelemetry collector base URL (OTEL_EXPORTER_OTLP_ENDPOINT); no traces when absent. */
  otlpEndpoint: string | undefined
}

export interface DbConfig {
  /** The primary's connection string (one host or several); when absent, the embedded database. */
  url: string | undefined
  /** Where searches read, hosts in order of preference; the primary when absent. */
  readUrl: string | undefined
  /** Schema holding the gateway's tables (PostgreSQL search_path); created when missing. */
  schema: string | undefined
  /** Where the embedded database keeps its files. */
  dataDir: string
  /** Synthetic beneficiaries loaded into an empty embedded database on first start. */
  seedCount: number
  /** Most connections the gateway opens to PostgreSQL. */
  poolSize: number
  /** Seconds to wait for a PostgreSQL connection before answering 503. */
  connectTimeoutSeconds: number
  /** Seconds a search query may run: the server's statement_timeout on read connections. */
  queryTimeoutSeconds: number
  /** Seconds an unused connection stays open. */
  idleTimeoutSeconds: number
  /** Seconds before a connection is replaced. */
  maxLifetimeSeconds: number
}

export interface KeysConfig {
  /** Directory holding the key manifest and private JWKs. */
  dir: string
  /** Passphrase that seals private key files (KEYS_PASSPHRASE, or the file KEYS_PASSPHRASE_FILE). */
  passphrase: string | undefined
  /** Watch the key directory and reload the ring on change (SIGHUP reloads too). */
  watch: boolean
  /** Generate a development key pair when the key directory holds none. */
  autoGenerate: boolean
  /** Cache-Control max-age of the published JWKS, in seconds. */
  jwksMaxAgeSeconds: number
  /** Where the key ring lives (KEY_STORE): the key directory, or the database's key ring tables. */
  store: 'dir' | 'postgres'
  /** Seconds between reads of the key ring version (KEYS_POLL_INTERVAL). */
  pollIntervalSeconds: number
  /**
   * Seconds the key ring may be read from no host before searches that decrypt, and readiness,
   * answer 503 (KEYS_FAIL_CLOSED_AFTER).
   */
  failClosedAfterSeconds: number
  /**
   * Seconds the ring in place may not follow its store (unreadable, or its readings refused)
   * before readiness fails (KEYS_STALE_READY_SECONDS).
   */
  staleReadySeconds: number
  /** Seconds a clock may differ from the database's before publication holds (KEYS_MAX_CLOCK_SKEW). */
  maxClockSkewSeconds: number
  /** Seconds after retirement a key is due for destruction (`keys sweep`); 0: none. */
  destroyAfterSeconds: number
  /** The PKCS#11 token that holds HSM keys (PKCS11_*), when one is configured. */
  pkcs11: Pkcs11Config | undefined
}

/** A PKCS#11 token: library, token label, user PIN, sessions for key agreement. */
export interface Pkcs11Config {
  module: string
  tokenLabel: string
  /** Never logged, never quoted in an error. */
  pin: string
  sessions: number
}

/** Replay window: require `exp` in tokens, at most `maxLifetimeSeconds` after `iat` (or now). */
export interface TokensConfig {
  requireExp: boolean
  maxLifetimeSeconds: number
  /** Refuse tokens not bound to the connection's client certificate (needs mTLS). */
  requireSenderBinding: boolean
  /** Refuse tokens whose KEM is not hybrid post-quantum (X-Wing). */
  requirePq: boolean
}

export interface AuditConfig {
  /** Audit records: `stdout`, `stderr` or a file path (appended, mode 0600). */
  log: string
  /** HMAC-SHA256 key for the MBI fingerprints in audit records; random per process when unset. */
  hmacKey: Buffer | undefined
}

/** HTTPS with required client certificates (mTLS). */
export interface TlsConfig {
  certFile: string
  keyFile: string
  /** CA bundle that client certificates must chain to. */
  clientCaFile: string
  /** SHA-256 fingerprints (upper-case hex, colon-separated) of the client certificates served. */
  clientAllowlist: string[]
  /** The allowlisted fingerprints marked `=bound`: those clients must send sender-bound tokens. */
  boundClients: string[]
  /** The allowlisted fingerprints marked `=pq`: those clients must send hybrid tokens. */
  pqClients: string[]
}

export interface LegacyHashConfig {
  /** When the path ends (RFC 8594 `Sunset`); LEGACY_HASH_SUNSET, required when enabled. */
  sunset: Date
  /** Since when it is deprecated (RFC 9745 `Deprecation`); LEGACY_HASH_DEPRECATION, optional. */
  deprecation: Date | undefined
}

export interface FeaturesConfig {
  /** Legacy `mbi-hash` search (deprecated; LEGACY_HASH_ENABLED): served only when set. */
  legacyHash: LegacyHashConfig | undefined
  /** Encrypted HICN search (`hicn-encrypted`; HICN_SEARCH_ENABLED), off by default. */
  hicnSearch: boolean
}

export interface ClusterConfig {
  /** Worker processes sharing the port (CLUSTER_WORKERS); 0 runs the gateway in this process. */
  workers: number
}

export interface Config {
  server: ServerConfig
  db: DbConfig
  keys: KeysConfig
  tokens: TokensConfig
  audit: AuditConfig
  /** Set when mTLS is on (all four TLS_* variables). */
  tls: TlsConfig | undefined
  features: FeaturesConfig
  cluster: ClusterConfig
}
