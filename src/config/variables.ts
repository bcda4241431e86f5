import {
  boolean,
  countOrAuto,
  date,
  clientAllowlist,
  hexBytes,
  integer,
  oneOf,
  postgresUrl,
  sqlIdentifier,
  text,
  url,
  type Parser,
} from './parsers.js'
import { LOG_LEVELS, type LogLevel, type SectionName } from './types.js'

/** One environment variable: how it is parsed, its default, and how the README describes it. */
export interface Variable<T = unknown, D extends T | undefined = T | undefined> {
  /** The section of the configuration it belongs to (its row's place in the README table). */
  section: SectionName
  /** What the value looks like, for the README. */
  type: string
  parse: Parser<T>
  /** The value when the variable is unset or empty. */
  fallback: D
  /** The default as the README shows it, when the value itself does not say it well. */
  shown?: string
  description: string
  /**
   * A secret: never quoted in an error or a log, and may instead be given as the file named by
   * NAME_FILE (its final line break removed).
   */
  secret: boolean
}

function variable<T, D extends T | undefined>(v: Variable<T, D>): Variable<T, D> {
  return v
}

const publicBaseUrl: Parser<string> = (raw) => url(['http:', 'https:'])(raw).replace(/\/+$/, '')

/**
 * Every environment variable the gateway and its scripts read, in README order. To add one: add
 * a row here, read it in sections.ts (or where a script needs it, through `readVariable`), then
 * run `npm run docs:config` to regenerate the README table.
 */
export const VARIABLES = {
  HOST: variable({
    section: 'server',
    type: 'host name or address',
    parse: text,
    fallback: '127.0.0.1',
    description: 'address to listen on',
    secret: false,
  }),
  PORT: variable({
    section: 'server',
    type: 'port number',
    parse: integer(0, 65535),
    fallback: 8080,
    description: 'port (0: any free port)',
    secret: false,
  }),
  PUBLIC_BASE_URL: variable({
    section: 'server',
    type: '`http(s)://` URL',
    parse: publicBaseUrl,
    fallback: undefined,
    shown: '`http://HOST:PORT`',
    description: 'base URL used in Bundle links',
    secret: false,
  }),
  LOG_LEVEL: variable<LogLevel, LogLevel>({
    section: 'server',
    type: 'log level',
    parse: oneOf(LOG_LEVELS),
    fallback: 'info',
    description: LOG_LEVELS.map((l) => `\`${l}\``).join(', '),
    secret: false,
  }),
  LOG_HEALTH_CHECKS: variable({
    section: 'server',
    type: 'true or false',
    parse: boolean,
    fallback: false,
    description:
      'write an access log line for `/health/live` and `/health/ready` answers under 400 too (failures are always logged)',
    secret: false,
  }),
  LOG_FLUSH_MS: variable({
    section: 'server',
    type: 'milliseconds, 0-1000',
    parse: integer(0, 1000),
    fallback: 50,
    description:
      'longest the access log and the audit trail hold a line to write it with others (one write per 8 KiB or per interval instead of one per line); `0` hands each line on as it comes. Everything is written on a clean stop; a process killed outright (SIGKILL) loses at most this much',
    secret: false,
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable({
    section: 'server',
    type: '`http(s)://` URL',
    parse: publicBaseUrl,
    fallback: undefined,
    shown: 'none: no traces',
    description:
      'OpenTelemetry collector: spans for each request go to `<URL>/v1/traces` (OTLP/HTTP, JSON)',
    secret: false,
  }),
  DATABASE_URL: variable({
    section: 'db',
    type: '`postgres://` URL, one host or several',
    parse: postgresUrl,
    fallback: undefined,
    shown: 'none: embedded',
    description:
      'the primary: migrations and writes; several hosts with `target_session_attrs=read-write` find the primary among them',
    secret: true,
  }),
  DATABASE_READ_URL: variable({
    section: 'db',
    type: '`postgres://` URL, one host or several',
    parse: postgresUrl,
    fallback: undefined,
    shown: '`DATABASE_URL`',
    description:
      'where searches read (hot standbys): hosts in order of preference, one pool each; a host that fails is passed over for 2 s and the search retried once on the next. With KEY_STORE=postgres, the key ring is read there (polled) while DATABASE_URL cannot be',
    secret: true,
  }),
  DATABASE_SCHEMA: variable({
    section: 'db',
    type: 'SQL identifier',
    parse: sqlIdentifier,
    fallback: undefined,
    shown: "the server's default",
    description: "schema for the gateway's tables; created if missing",
    secret: false,
  }),
  DB_POOL_SIZE: variable({
    section: 'db',
    type: 'whole number, 1-200',
    parse: integer(1, 200),
    fallback: 10,
    description: 'connections per pool (each read host, and the primary)',
    secret: false,
  }),
  DB_CONNECT_TIMEOUT: variable({
    section: 'db',
    type: 'seconds, 1-120',
    parse: integer(1, 120),
    fallback: 5,
    description: 'seconds to wait for a connection before answering 503',
    secret: false,
  }),
  DB_QUERY_TIMEOUT: variable({
    section: 'db',
    type: 'seconds, 1-600',
    parse: integer(1, 600),
    fallback: 10,
    description:
      'seconds a search query may run: the server cancels it (`statement_timeout`) and the search answers 503',
    secret: false,
  }),
  DB_IDLE_TIMEOUT: variable({
    section: 'db',
    type: 'seconds, 1-3600',
    parse: integer(1, 3600),
    fallback: 30,
    description: 'seconds an unused connection stays open',
    secret: false,
  }),
  DB_MAX_LIFETIME: variable({
    section: 'db',
    type: 'seconds, 10-86400',
    parse: integer(10, 86_400),
    fallback: 1800,
    description: 'seconds before a connection is replaced, used or not',
    secret: false,
  }),
  DATA_DIR: variable({
    section: 'db',
    type: 'path',
    parse: text,
    fallback: '.data/pglite',
    description: 'where the embedded database keeps its files',
    secret: false,
  }),
  SEED_COUNT: variable({
    section: 'db',
    type: 'whole number',
    parse: integer(0, 10_000_000),
    fallback: 1000,
    description: 'synthetic beneficiaries loaded into an empty embedded database',
    secret: false,
  }),
  KEYS_DIR: variable({
    section: 'keys',
    type: 'path',
    parse: text,
    fallback: 'keys',
    description: 'key directory',
    secret: false,
  }),
  KEYS_AUTOGENERATE: variable({
    section: 'keys',
    type: 'true or false',
    parse: boolean,
    fallback: true,
    description:
      'generate development keys (a current and a next P-256, X25519 and X-Wing key) when the key store has none; set `false` in production',
    secret: false,
  }),
  KEYS_PASSPHRASE: variable({
    section: 'keys',
    type: 'text',
    parse: text,
    fallback: undefined,
    shown: 'none: keys unsealed',
    description: 'passphrase that seals the private key files (`npm run keys -- seal`)',
    secret: true,
  }),
  PKCS11_MODULE: variable({
    section: 'keys',
    type: 'path',
    parse: text,
    fallback: undefined,
    shown: 'none: keys in process',
    description:
      'PKCS#11 library of the token holding HSM keys (e.g. `/usr/lib/softhsm/libsofthsm2.so`); needs the optional `pkcs11js`',
    secret: false,
  }),
  PKCS11_TOKEN_LABEL: variable({
    section: 'keys',
    type: 'text',
    parse: text,
    fallback: undefined,
    shown: 'none',
    description: 'label of the token (with `PKCS11_MODULE`)',
    secret: false,
  }),
  PKCS11_PIN: variable({
    section: 'keys',
    type: 'text',
    parse: text,
    fallback: undefined,
    shown: 'none',
    description: 'user PIN of the token (with `PKCS11_MODULE`)',
    secret: true,
  }),
  PKCS11_SESSIONS: variable({
    section: 'keys',
    type: 'whole number, 1-64',
    parse: integer(1, 64),
    fallback: 4,
    description: 'token sessions for key agreement, each used by one request at a time',
    secret: false,
  }),
  KEYS_WATCH: variable({
    section: 'keys',
    type: 'true or false',
    parse: boolean,
    fallback: true,
    description: 'watch the key directory and reload the key ring on change (`SIGHUP` reloads too)',
    secret: false,
  }),
  KEY_STORE: variable<'dir' | 'postgres', 'dir' | 'postgres'>({
    section: 'keys',
    type: '`dir` or `postgres`',
    parse: oneOf(['dir', 'postgres'] as const),
    fallback: 'dir',
    description:
      "where the key ring lives: the key directory, or the key ring tables of `DATABASE_URL`'s database for a fleet (needs `KEYS_PASSPHRASE` and `AUDIT_HMAC_KEY`; docs/ROTATION.md)",
    secret: false,
  }),
  KEYS_POLL_INTERVAL: variable({
    section: 'keys',
    type: 'seconds, 1-3600',
    parse: integer(1, 3600),
    fallback: 5,
    description:
      'seconds between reads of the key ring version, besides LISTEN/NOTIFY or the directory watch; a rotation publishes after three',
    secret: false,
  }),
  KEYS_STALE_READY_SECONDS: variable({
    section: 'keys',
    type: 'seconds, 0-86400',
    parse: integer(0, 86_400),
    fallback: 300,
    description:
      '`/health/ready` answers 503 `ERR_KEYS_RING_STALE` once the ring in place has not followed the store for this long: unreadable, or every reading refused (a MAC that does not match, a rollback); searches go on (0: never)',
    secret: false,
  }),
  KEYS_FAIL_CLOSED_AFTER: variable({
    section: 'keys',
    type: 'seconds, 2-86400',
    parse: integer(2, 86_400),
    fallback: 30,
    description:
      'once the key ring has been read from no host (DATABASE_URL, then DATABASE_READ_URL; or the key directory) for this long, searches that decrypt answer 503 `ERR_KEYS_RING_STALE` with Retry-After, and so does `/health/ready`, until a read succeeds; more than KEYS_POLL_INTERVAL',
    secret: false,
  }),
  KEYS_MAX_CLOCK_SKEW: variable({
    section: 'keys',
    type: 'seconds, 1-3600',
    parse: integer(1, 3600),
    fallback: 2,
    description:
      "KEY_STORE=postgres: a gateway whose clock is further than this from the database's (`sealed_search_clock_skew_seconds`) publishes no pending key",
    secret: false,
  }),
  KEYS_DESTROY_AFTER: variable({
    section: 'keys',
    type: 'seconds, 0-31536000',
    parse: integer(0, 31_536_000),
    fallback: 0,
    description:
      '`npm run keys -- retire` without `--destroy-after` schedules the key for destruction this long after (`keys sweep` destroys it; 0: no schedule)',
    secret: false,
  }),
  JWKS_MAX_AGE: variable({
    section: 'keys',
    type: 'seconds, 0-86400',
    parse: integer(0, 86_400),
    fallback: 300,
    description: '`Cache-Control` max-age of the JWKS',
    secret: false,
  }),
  TOKEN_REQUIRE_EXP: variable({
    section: 'tokens',
    type: 'true or false',
    parse: boolean,
    fallback: false,
    description: 'replay window: refuse tokens without `exp` (the claims form)',
    secret: false,
  }),
  TOKEN_REQUIRE_SENDER_BINDING: variable({
    section: 'tokens',
    type: 'true or false',
    parse: boolean,
    fallback: false,
    description:
      'refuse identifier tokens not bound to the client certificate (`x5t#S256`, HPKE version 3); needs mTLS',
    secret: false,
  }),
  TOKEN_REQUIRE_PQ: variable({
    section: 'tokens',
    type: 'true or false',
    parse: boolean,
    fallback: false,
    description:
      'refuse identifier tokens that are not hybrid post-quantum (HPKE with KEM X-Wing): JWE and ECDH-only HPKE get `ERR_TOKEN_PQ_REQUIRED`',
    secret: false,
  }),
  TOKEN_MAX_LIFETIME: variable({
    section: 'tokens',
    type: 'seconds, 1-86400',
    parse: integer(1, 86_400),
    fallback: 300,
    description: 'replay window: longest `exp - iat` accepted',
    secret: false,
  }),
  AUDIT_LOG: variable({
    section: 'audit',
    type: '`stdout`, `stderr` or a path',
    parse: text,
    fallback: 'stdout',
    description: 'where audit records go (a file is appended to, mode 0600)',
    secret: false,
  }),
  AUDIT_HMAC_KEY: variable({
    section: 'audit',
    type: 'hex, 32+ bytes',
    parse: hexBytes(32),
    fallback: undefined,
    shown: 'random per process',
    description: 'key of the MBI fingerprints in audit records',
    secret: true,
  }),
  TLS_CERT_FILE: variable({
    section: 'tls',
    type: 'path',
    parse: text,
    fallback: undefined,
    shown: 'none',
    description: 'HTTPS server certificate (PEM); with the other three `TLS_*`, turns on mTLS',
    secret: false,
  }),
  TLS_KEY_FILE: variable({
    section: 'tls',
    type: 'path',
    parse: text,
    fallback: undefined,
    shown: 'none',
    description: 'HTTPS server private key (PEM)',
    secret: false,
  }),
  TLS_CLIENT_CA_FILE: variable({
    section: 'tls',
    type: 'path',
    parse: text,
    fallback: undefined,
    shown: 'none',
    description: 'CA bundle client certificates must chain to',
    secret: false,
  }),
  TLS_CLIENT_ALLOWLIST: variable({
    section: 'tls',
    type: 'SHA-256 fingerprints',
    parse: clientAllowlist,
    fallback: undefined,
    shown: 'none',
    description:
      'comma-separated fingerprints of the client certificates served; `FINGERPRINT=bound`: that client must send sender-bound tokens; `=pq`: hybrid (X-Wing) tokens; `=bound+pq`: both',
    secret: false,
  }),
  LEGACY_HASH_ENABLED: variable({
    section: 'features',
    type: 'true or false',
    parse: boolean,
    fallback: false,
    description: 'serve the deprecated `mbi-hash` search (needs `LEGACY_HASH_SUNSET`)',
    secret: false,
  }),
  LEGACY_HASH_SUNSET: variable({
    section: 'features',
    type: 'date',
    parse: date,
    fallback: undefined,
    shown: 'none',
    description:
      'the date it ends, for `Sunset`: an HTTP-date (`Wed, 30 Jun 2027 00:00:00 GMT`) or ISO 8601 (`2027-06-30`, `2027-06-30T12:00:00Z`)',
    secret: false,
  }),
  LEGACY_HASH_DEPRECATION: variable({
    section: 'features',
    type: 'date',
    parse: date,
    fallback: undefined,
    shown: 'none: `@0`',
    description: 'the date it was deprecated, for `Deprecation`; same forms; not after the sunset',
    secret: false,
  }),
  LEGACY_HASH_PEPPER: variable({
    section: 'features',
    type: 'hex',
    parse: hexBytes(1),
    fallback: undefined,
    shown: 'none',
    description: 'the pepper for `npm run legacy-hash` only (the gateway never reads it)',
    secret: true,
  }),
  HICN_SEARCH_ENABLED: variable({
    section: 'features',
    type: 'true or false',
    parse: boolean,
    fallback: false,
    description: 'serve the encrypted HICN search (`hicn-encrypted`)',
    secret: false,
  }),
  CLUSTER_WORKERS: variable({
    section: 'cluster',
    type: '`auto` or 0-256',
    parse: countOrAuto(256),
    fallback: 0,
    shown: '`0`: one process',
    description: 'worker processes on the one port; `auto`: one per core; needs `DATABASE_URL`',
    secret: false,
  }),
} as const

export type VariableName = keyof typeof VARIABLES

/** The parsed value of a variable, or its fallback. */
export type ValueOf<N extends VariableName> =
  ReturnType<(typeof VARIABLES)[N]['parse']> | (typeof VARIABLES)[N]['fallback']
