/**
 * A SoftHSM2 token for the benchmarks, with one P-256 key generated in it by the key command.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { processEnvironment } from '../../src/config/environment.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { readManifest } from '../../src/keys/stores/manifest.js'
import { readPublicKeyFile } from '../../src/keys/pkcs11/store.js'
import type { MeterSetup } from './decrypt-meter.js'

export const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so'

/**
 * A SoftHSM2 token in `dir` with one P-256 key, when SoftHSM2 and pkcs11js are installed: made by
 * `npm run keys -- generate --hsm` into <dir>/keys, as a custodian would. The library reads its
 * configuration from SOFTHSM2_CONF, so the token is used only by child processes given it.
 */
export async function softHsm(
  dir: string,
): Promise<
  { pkcs11: NonNullable<MeterSetup['pkcs11']>; key: Pick<RingKey, 'kid' | 'publicJwk'> } | undefined
> {
  try {
    createRequire(import.meta.url)('pkcs11js')
  } catch {
    return undefined
  }
  if (!existsSync(SOFTHSM)) return undefined
  await mkdir(join(dir, 'tokens'), { recursive: true })
  const conf = join(dir, 'softhsm2.conf')
  await writeFile(
    conf,
    `directories.tokendir = ${join(dir, 'tokens')}
objectstore.backend = file
log.level = ERROR
`,
  )
  const pin = '246810'
  const env = { ...processEnvironment(), SOFTHSM2_CONF: conf }
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'bench', '--pin', pin, '--so-pin', '13579135'],
    { stdio: 'pipe', env },
  )
  const keys = join(dir, 'keys')
  execFileSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(new URL('../keys.ts', import.meta.url)),
      'generate',
      '--curve',
      'P-256',
      '--hsm',
      '--dir',
      keys,
    ],
    {
      stdio: 'pipe',
      env: {
        ...env,
        KEY_STORE: 'dir',
        PKCS11_MODULE: SOFTHSM,
        PKCS11_TOKEN_LABEL: 'bench',
        PKCS11_PIN: pin,
      },
    },
  )
  const [entry] = (await readManifest(keys)).keys
  const publicJwk = { ...(await readPublicKeyFile(keys, entry!)), hpke_key_id: entry!.hpkeKeyId }
  return {
    pkcs11: { module: SOFTHSM, tokenLabel: 'bench', pin, sessions: 4, conf },
    key: { kid: entry!.kid, publicJwk },
  }
}
