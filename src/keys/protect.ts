import { compactDecrypt, CompactEncrypt } from 'jose'
import { KeyStoreError } from './errors.js'

/**
 * Passphrase protection of a private JWK at rest: the JWK is the plaintext of a JWE with
 * PBES2-HS512+A256KW (RFC 7518 §4.8) and A256GCM. The passphrase never leaves this module.
 */
const ALG = 'PBES2-HS512+A256KW'
const ENC = 'A256GCM'
/** PBKDF2-HMAC-SHA512 iterations (OWASP's 2023 figure for SHA-512 is 210,000). */
export const PBES2_ITERATIONS = 210_000
const MAX_ITERATIONS = 2_000_000

export async function sealPrivateJwk(jwkJson: string, passphrase: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(jwkJson))
    .setProtectedHeader({ alg: ALG, enc: ENC, cty: 'jwk+json' })
    .setKeyManagementParameters({ p2c: PBES2_ITERATIONS })
    .encrypt(new TextEncoder().encode(passphrase))
}

export async function openPrivateJwk(
  sealed: string,
  passphrase: string,
  file: string,
): Promise<string> {
  try {
    const { plaintext } = await compactDecrypt(
      sealed.trim(),
      new TextEncoder().encode(passphrase),
      {
        keyManagementAlgorithms: [ALG],
        contentEncryptionAlgorithms: [ENC],
        maxPBES2Count: MAX_ITERATIONS,
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
