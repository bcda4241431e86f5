import { randomBytes } from 'node:crypto'

/**
 * The environment of a fleet of gateway processes (and the `keys` commands beside them) on one
 * postgres key ring in `schema` of the server at `databaseUrl`: a fresh passphrase and audit key,
 * a 1 s poll, no development keys, loopback and a free port. `extra` adds or overrides.
 */
export function postgresFleetEnv(
  databaseUrl: string,
  schema: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KEY_STORE: 'postgres',
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    KEYS_PASSPHRASE: randomBytes(16).toString('hex'),
    AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
    KEYS_POLL_INTERVAL: '1',
    KEYS_AUTOGENERATE: 'false',
    HOST: '127.0.0.1',
    PORT: '0',
    ...extra,
  }
}
