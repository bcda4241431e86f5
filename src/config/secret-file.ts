import { statSync } from 'node:fs'
import { ConfigError } from './errors.js'

/**
 * Refuses, as ssh does and as the key store does for key files, a secret file (a passphrase, a
 * PIN, an HMAC key, a TLS private key) that the group or others may read: a secret another
 * account can read is no longer a secret. The error names the variable and the file, and says
 * how to fix it.
 */
export function refuseOpenSecretFile(variable: string, path: string): void {
  let mode: number
  try {
    mode = statSync(path).mode & 0o777
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path}`, { cause: error })
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      variable,
      `${path}: permissions ${mode.toString(8)} are too open; the file must not be readable by group or others (chmod 600)`,
    )
  }
}
