/**
 * A real SoftHSM2 token for one test file: a token directory and configuration of its own in a
 * temporary directory (SOFTHSM2_CONF), initialised with softhsm2-util, removed afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Pkcs11Options } from '../../src/keys/pkcs11/token.js'
import { tempDir } from './keys.js'

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so'

/** Why the SoftHSM tests cannot run here, or undefined when they can. */
export function softHsmMissing(): string | undefined {
  if (!existsSync(SOFTHSM_MODULE)) return `${SOFTHSM_MODULE} (Debian softhsm2) is not installed`
  if (spawnSync('softhsm2-util', ['--version']).status !== 0) return 'softhsm2-util is missing'
  try {
    createRequire(import.meta.url)('pkcs11js')
  } catch {
    return 'the optional package pkcs11js is not installed (it needs a C++ compiler)'
  }
  return undefined
}

export interface SoftHsm {
  dir: string
  env: Record<string, string>
  options: Pkcs11Options
  /** Removes the token, as if the device were unplugged. */
  removeToken(): void
  close(): Promise<void>
}

export async function startSoftHsm(label = 'sealed-test', pin = '246810'): Promise<SoftHsm> {
  const dir = await tempDir('sealed-softhsm-')
  await mkdir(join(dir, 'tokens'))
  const conf = join(dir, 'softhsm2.conf')
  await writeFile(
    conf,
    `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  )
  const env = { SOFTHSM2_CONF: conf }
  // The library reads SOFTHSM2_CONF when it is initialised, in this process too.
  process.env.SOFTHSM2_CONF = conf
  const util = (...args: string[]) =>
    execFileSync('softhsm2-util', args, { env: { ...process.env, ...env }, stdio: 'pipe' })
  util('--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '13579135')
  return {
    dir,
    env: {
      ...env,
      PKCS11_MODULE: SOFTHSM_MODULE,
      PKCS11_TOKEN_LABEL: label,
      PKCS11_PIN: pin,
    },
    options: { module: SOFTHSM_MODULE, tokenLabel: label, pin, sessions: 4 },
    removeToken: () => void util('--delete-token', '--token', label),
    close: () => rm(dir, { recursive: true, force: true }),
  }
}
