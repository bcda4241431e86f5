import { processEnvironment, type Env } from './environment.js'
import { readVariable } from './read.js'
import * as sections from './sections.js'
import type { Config } from './types.js'

/**
 * Reads the configuration once, from the environment, into its sections. A bad value throws a
 * ConfigError naming the variable; the caller stops start-up with its message.
 */
export function loadConfig(env: Env = processEnvironment()): Config {
  const config: Config = {
    server: sections.server(env),
    db: sections.db(env),
    keys: sections.keys(env),
    tokens: sections.tokens(env),
    audit: sections.audit(env),
    tls: sections.tls(env),
    features: sections.features(env),
    cluster: sections.cluster(env),
  }
  sections.senderBindingNeedsTls(config.tokens, config.tls)
  return config
}

/**
 * The pepper for `npm run legacy-hash` (LEGACY_HASH_PEPPER or the file LEGACY_HASH_PEPPER_FILE),
 * hex-encoded bytes. Only that script reads it; the gateway never needs it.
 */
export function legacyHashPepper(env: Env = processEnvironment()): Buffer | undefined {
  return readVariable(env, 'LEGACY_HASH_PEPPER')
}
