import { compactDecrypt, CompactEncrypt } from 'jose'
import { KeyStoreError } from '../errors.js'

/**
 * Passphrase protection of a private JWK at rest: the JWK is the plaintext of a JWE with
 * PBES2-HS512+A256KW (RFC 7518 §4.8) and A256GCM. The passphrase never leaves this module.
 */
const ALG = 'PBES2-HS512+A256KW'
const ENC = 'A256GCM'
/**
 * PBKDF2 iterations written into new sealed files: 600,000, current guidance for PBKDF2 (OWASP's
 * figure for HMAC-SHA256; SHA-512 needs fewer, so this errs on the strong side).
 */
export const PBES2_ITERATIONS = 600_000
/**
 * Iterations a sealed file may declare, checked before any key derivation. Below the minimum the
 * passphrase is too cheap to guess (210,000 is what the previous release wrote: such files still
 * open, and doctor reports them as weak); above the maximum, opening one file would stall
 * start-up, so a file claiming more is refused with that reason, not as a wrong passphrase.
 */
export const PBES2_MIN_ITERATIONS = 210_000
export const PBES2_MAX_ITERATIONS = 5_000_000
/** RFC 7518 §4.8.1.1: the salt input is at least 8 octets. */
const MIN_SALT_BYTES = 8

export async function sealPrivateJwk(jwkJson: string, passphrase: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(jwkJson))
    .setProtectedHeader({ alg: ALG, enc: ENC, cty: 'jwk+json' })
    .setKeyManagementParameters({ p2c: PBES2_ITERATIONS })
    .encrypt(new TextEncoder().encode(passphrase))
}

export interface SealParameters {
  alg: string
  /** PBKDF2 iteration count (`p2c`). */
  iterations: number
  /** Salt input length in bytes (`p2s`). */
  saltBytes: number
}

/** Reads a sealed file's protected header: the PBES2 parameters, without the passphrase. */
export function sealParameters(sealed: string, file: string): SealParameters {
  const invalid = (why: string) =>
    new KeyStoreError('ERR_KEYS_SEAL_INVALID', `${file}: not a sealed key (${why})`)
  const [encoded] = sealed.trim().split('.')
  let header: { alg?: unknown; enc?: unknown; p2c?: unknown; p2s?: unknown }
  try {
    header = JSON.parse(Buffer.from(encoded ?? '', 'base64url').toString('utf8'))
  } catch {
    throw invalid('the protected header is not JSON')
  }
  if (header?.alg !== ALG || header.enc !== ENC) throw invalid(`expected ${ALG} and ${ENC}`)
  if (typeof header.p2c !== 'number' || !Number.isSafeInteger(header.p2c)) {
    throw invalid('p2c is not an integer')
  }
  if (typeof header.p2s !== 'string') throw invalid('no p2s')
  return {
    alg: ALG,
    iterations: header.p2c,
    saltBytes: Buffer.from(header.p2s, 'base64url').length,
  }
}

/** Refuses a seal whose parameters are out of bounds, saying which and why. */
export function checkSealParameters(params: SealParameters, file: string): void {
  const { iterations, saltBytes } = params
  if (iterations < PBES2_MIN_ITERATIONS || iterations > PBES2_MAX_ITERATIONS) {
    throw new KeyStoreError(
      'ERR_KEYS_SEAL_PARAMETERS',
      `${file}: PBES2 iteration count ${iterations} is outside ${PBES2_MIN_ITERATIONS}..${PBES2_MAX_ITERATIONS}; re-create the key (npm run keys -- rotate)`,
    )
  }
  if (saltBytes < MIN_SALT_BYTES) {
    throw new KeyStoreError(
      'ERR_KEYS_SEAL_PARAMETERS',
      `${file}: PBES2 salt of ${saltBytes} bytes is under ${MIN_SALT_BYTES} (RFC 7518 §4.8.1.1)`,
    )
  }
}

export async function openPrivateJwk(
  sealed: string,
  passphrase: string,
  file: string,
): Promise<string> {
  checkSealParameters(sealParameters(sealed, file), file)
  try {
    const { plaintext } = await compactDecrypt(
      sealed.trim(),
      new TextEncoder().encode(passphrase),
      {
        keyManagementAlgorithms: [ALG],
        contentEncryptionAlgorithms: [ENC],
        maxPBES2Count: PBES2_MAX_ITERATIONS,
      },
    )
    return new TextDecoder().decode(plaintext)
  } catch (cause) {
    throw new KeyStoreError(
      'ERR_KEYS_PASSPHRASE',
      `${file}: cannot decrypt the key (wrong passphrase or damaged file)`,
      { cause },
    )
  }
}
