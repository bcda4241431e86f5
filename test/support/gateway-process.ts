import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { tempDir } from './keys.js'
import { get, type Tls } from './https.js'
import { childEnv, start, type Running } from './process.js'

export interface GatewayProcess {
  /** http://127.0.0.1:PORT, or https:// with TLS settings */
  url: string
  /** The JWKS as the gateway serves it, text and parsed. */
  jwksText: string
  jwks: {
    keys: {
      kid: string
      crv: string
      kty: string
      hpke_key_id?: number
      alg?: string
      pub?: string
    }[]
  }
  running: Running
  /** SIGTERM to the process group, then the temporary directory is removed. */
  stop(): Promise<void>
}

/**
 * Starts the gateway as an operator does (its entry point in a process of its own), on the
 * embedded database in a temporary directory, on loopback and a port the system picks, with
 * 60 synthetic beneficiaries (seededMbi(0..59)) and one active key per curve. Settings in `env`
 * win. Its working directory is this one's (the repository root, under vitest). With mTLS
 * settings in `env`, `options.tls` is the client certificate the JWKS is fetched with.
 */
export async function startGatewayProcess(
  env: Record<string, string | undefined> = {},
  options: { tls?: Tls; xwing?: boolean } = {},
): Promise<GatewayProcess> {
  const dir = await tempDir('sealed-gateway-')
  let running: Running | undefined
  const cleanup = async () => {
    await running?.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const keysDir = join(dir, 'keys')
    // One key per curve, as a deployed gateway publishes them.
    await addGeneratedKey(keysDir, 'P-256')
    await addGeneratedKey(keysDir, 'X25519')
    // With `xwing`, a hybrid (X-Wing) key too, published in the AKP form.
    if (options.xwing) await addGeneratedKey(keysDir, 'X-Wing')
    running = start(
      process.execPath,
      ['--import', 'tsx', 'src/index.ts'],
      childEnv({
        HOST: '127.0.0.1',
        PORT: '0',
        KEYS_DIR: keysDir,
        DATA_DIR: join(dir, 'data'),
        SEED_COUNT: '60',
        LOG_LEVEL: 'warn',
        ...env,
      }),
    )
    const [, url] = await running.waitFor(/is listening on (https?:\/\/\S+)/)
    const jwksUrl = `${url}/.well-known/jwks.json`
    const jwksText = options.tls
      ? (await get(jwksUrl, options.tls)).body
      : await (await fetch(jwksUrl)).text()
    const jwks = JSON.parse(jwksText) as GatewayProcess['jwks']
    return { url: url!, jwksText, jwks, running, stop: cleanup }
  } catch (error) {
    await cleanup()
    throw error
  }
}
