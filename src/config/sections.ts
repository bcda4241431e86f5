import type { Env } from './environment.js'
import { ConfigError } from './errors.js'
import { isSet, readVariable as read } from './read.js'
import type {
  AuditConfig,
  ClusterConfig,
  DbConfig,
  FeaturesConfig,
  KeysConfig,
  Pkcs11Config,
  ServerConfig,
  TlsConfig,
  TokensConfig,
} from './types.js'

/** Each section from its variables, with the rules that tie variables of a section together. */

export function server(env: Env): ServerConfig {
  return {
    host: read(env, 'HOST'),
    port: read(env, 'PORT'),
    publicBaseUrl: read(env, 'PUBLIC_BASE_URL'),
    logLevel: read(env, 'LOG_LEVEL'),
    logHealthChecks: read(env, 'LOG_HEALTH_CHECKS'),
    logFlushMs: read(env, 'LOG_FLUSH_MS'),
    otlpEndpoint: read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT'),
  }
}

export function db(env: Env): DbConfig {
  const readUrl = read(env, 'DATABASE_READ_URL')
  if (readUrl && !isSet(env, 'DATABASE_URL')) {
    throw new ConfigError(
      'DATABASE_READ_URL',
      'needs DATABASE_URL: the primary holds the migrations and the writes',
    )
  }
  return {
    url: read(env, 'DATABASE_URL'),
    readUrl,
    schema: read(env, 'DATABASE_SCHEMA'),
    dataDir: read(env, 'DATA_DIR'),
    seedCount: read(env, 'SEED_COUNT'),
    poolSize: read(env, 'DB_POOL_SIZE'),
    connectTimeoutSeconds: read(env, 'DB_CONNECT_TIMEOUT'),
    queryTimeoutSeconds: read(env, 'DB_QUERY_TIMEOUT'),
    idleTimeoutSeconds: read(env, 'DB_IDLE_TIMEOUT'),
    maxLifetimeSeconds: read(env, 'DB_MAX_LIFETIME'),
  }
}

/**
 * KEY_STORE=postgres keeps the fleet's ring in DATABASE_URL's database, private keys only sealed:
 * it needs DATABASE_URL and KEYS_PASSPHRASE (or KEYS_PASSPHRASE_FILE).
 */
export function keys(env: Env): KeysConfig {
  const store = read(env, 'KEY_STORE')
  const passphrase = read(env, 'KEYS_PASSPHRASE')
  if (store === 'postgres' && !isSet(env, 'DATABASE_URL')) {
    throw new ConfigError(
      'KEY_STORE',
      'postgres needs DATABASE_URL: the key ring lives in its database',
    )
  }
  if (store === 'postgres' && passphrase === undefined) {
    throw new ConfigError(
      'KEYS_PASSPHRASE',
      'required with KEY_STORE=postgres: private keys in the database are kept sealed (or KEYS_PASSPHRASE_FILE)',
    )
  }
  const pollIntervalSeconds = read(env, 'KEYS_POLL_INTERVAL')
  const failClosedAfterSeconds = read(env, 'KEYS_FAIL_CLOSED_AFTER')
  if (failClosedAfterSeconds <= pollIntervalSeconds) {
    throw new ConfigError(
      'KEYS_FAIL_CLOSED_AFTER',
      `must exceed KEYS_POLL_INTERVAL (${pollIntervalSeconds} s): one late poll would stop decryption`,
    )
  }
  return {
    dir: read(env, 'KEYS_DIR'),
    autoGenerate: read(env, 'KEYS_AUTOGENERATE'),
    passphrase,
    watch: read(env, 'KEYS_WATCH'),
    jwksMaxAgeSeconds: read(env, 'JWKS_MAX_AGE'),
    store,
    pollIntervalSeconds,
    failClosedAfterSeconds,
    staleReadySeconds: read(env, 'KEYS_STALE_READY_SECONDS'),
    maxClockSkewSeconds: read(env, 'KEYS_MAX_CLOCK_SKEW'),
    destroyAfterSeconds: read(env, 'KEYS_DESTROY_AFTER'),
    pkcs11: pkcs11(env),
  }
}

const PKCS11_VARIABLES = ['PKCS11_MODULE', 'PKCS11_TOKEN_LABEL', 'PKCS11_PIN'] as const

/** HSM keys: module, token label and PIN all set, or none. */
function pkcs11(env: Env): Pkcs11Config | undefined {
  const sessions = read(env, 'PKCS11_SESSIONS') // checked even when unused
  if (!PKCS11_VARIABLES.some((n) => isSet(env, n))) return undefined
  const missing = PKCS11_VARIABLES.find((n) => !isSet(env, n))
  if (missing)
    throw new ConfigError(missing, `a PKCS#11 token needs all of ${PKCS11_VARIABLES.join(', ')}`)
  return {
    module: read(env, 'PKCS11_MODULE')!,
    tokenLabel: read(env, 'PKCS11_TOKEN_LABEL')!,
    pin: read(env, 'PKCS11_PIN')!,
    sessions,
  }
}

export function tokens(env: Env): TokensConfig {
  return {
    requireExp: read(env, 'TOKEN_REQUIRE_EXP'),
    maxLifetimeSeconds: read(env, 'TOKEN_MAX_LIFETIME'),
    requireSenderBinding: read(env, 'TOKEN_REQUIRE_SENDER_BINDING'),
    requirePq: read(env, 'TOKEN_REQUIRE_PQ'),
  }
}

export function audit(env: Env): AuditConfig {
  return { log: read(env, 'AUDIT_LOG'), hmacKey: read(env, 'AUDIT_HMAC_KEY') }
}

const TLS_VARIABLES = [
  'TLS_CERT_FILE',
  'TLS_KEY_FILE',
  'TLS_CLIENT_CA_FILE',
  'TLS_CLIENT_ALLOWLIST',
] as const

/** mTLS: all four TLS_* variables, or none. */
export function tls(env: Env): TlsConfig | undefined {
  if (!TLS_VARIABLES.some((n) => isSet(env, n))) return undefined
  const missing = TLS_VARIABLES.find((n) => !isSet(env, n))
  if (missing) throw new ConfigError(missing, `mTLS needs all of ${TLS_VARIABLES.join(', ')}`)
  const allowlist = read(env, 'TLS_CLIENT_ALLOWLIST')!
  return {
    certFile: read(env, 'TLS_CERT_FILE')!,
    keyFile: read(env, 'TLS_KEY_FILE')!,
    clientCaFile: read(env, 'TLS_CLIENT_CA_FILE')!,
    clientAllowlist: allowlist.map((e) => e.fingerprint),
    boundClients: allowlist.filter((e) => e.bound).map((e) => e.fingerprint),
    pqClients: allowlist.filter((e) => e.pq).map((e) => e.fingerprint),
  }
}

/** Sender binding is checked against the mTLS client certificate: without mTLS, refuse to start. */
export function senderBindingNeedsTls(
  tokensConfig: TokensConfig,
  tlsConfig: TlsConfig | undefined,
) {
  if (tokensConfig.requireSenderBinding && !tlsConfig) {
    throw new ConfigError(
      'TOKEN_REQUIRE_SENDER_BINDING',
      `sender binding needs mTLS: set ${TLS_VARIABLES.join(', ')}`,
    )
  }
}

/** The legacy mbi-hash search: off unless LEGACY_HASH_ENABLED; then LEGACY_HASH_SUNSET is required. */
export function features(env: Env): FeaturesConfig {
  const enabled = read(env, 'LEGACY_HASH_ENABLED')
  const sunset = read(env, 'LEGACY_HASH_SUNSET')
  const deprecation = read(env, 'LEGACY_HASH_DEPRECATION')
  const hicnSearch = read(env, 'HICN_SEARCH_ENABLED')
  if (!enabled) return { legacyHash: undefined, hicnSearch }
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
  return { legacyHash: { sunset, deprecation }, hicnSearch }
}

/** The embedded database (PGlite) serves one process, so workers need DATABASE_URL. */
export function cluster(env: Env): ClusterConfig {
  const workers = read(env, 'CLUSTER_WORKERS')
  if (workers > 0 && !isSet(env, 'DATABASE_URL')) {
    throw new ConfigError(
      'CLUSTER_WORKERS',
      'cluster mode needs DATABASE_URL: the embedded database serves one process only',
    )
  }
  return { workers }
}
