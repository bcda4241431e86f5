import { compactDecrypt } from 'jose'
import type { KeyRing } from '../keys/keyring.js'
import { decodeBase64url } from './base64url.js'
import { parseIdentifierPayload, type IdentifierClaims } from './claims.js'
import { TokenError } from './errors.js'
import { checkEphemeralKey, parseJweHeader, type JweAlg, type JweEnc } from './jwe-header.js'

export interface OpenedToken extends IdentifierClaims {
  format: 'jwe'
  kid: string
  alg: JweAlg
  enc: JweEnc
}

const IV_CHARS = 16 // 96-bit GCM IV (RFC 7518 §5.3)
const TAG_CHARS = 22 // 128-bit GCM tag
const WRAPPED_KEY_CHARS: Record<JweEnc, number> = { A256GCM: 54, A128GCM: 32 } // RFC 3394: CEK + 8

/**
 * Decrypts a JWE compact token (RFC 7516 §7.1) with the ring key its `kid` names: no trial
 * decryption. The header is checked against allowlists before the key is used; after that,
 * every failure is the one uniform ERR_TOKEN_DECRYPTION_FAILED (RFC 7516 §11.5).
 */
export async function openJwe(token: string, ring: KeyRing, now: Date): Promise<OpenedToken> {
  const parts = token.split('.')
  if (parts.length !== 5) throw new TokenError('ERR_TOKEN_MALFORMED')
  const [protectedHeader, encryptedKey, iv, ciphertext, tag] = parts as [
    string,
    string,
    string,
    string,
    string,
  ]
  const header = parseJweHeader(protectedHeader)

  const key = ring.get(header.kid)
  if (!key) throw new TokenError('ERR_TOKEN_KID_UNKNOWN')
  if (!ring.accepts(key, now)) throw new TokenError('ERR_TOKEN_KEY_NOT_ACCEPTED')
  checkEphemeralKey(header.epk, key.crv)

  // RFC 7518 §4.6: with Direct Key Agreement the JWE Encrypted Key is the empty octet sequence.
  const expectedKeyChars = header.alg === 'ECDH-ES' ? 0 : WRAPPED_KEY_CHARS[header.enc]
  if (encryptedKey.length !== expectedKeyChars) throw new TokenError('ERR_TOKEN_MALFORMED')
  if (iv.length !== IV_CHARS || tag.length !== TAG_CHARS || ciphertext.length === 0) {
    throw new TokenError('ERR_TOKEN_MALFORMED')
  }
  for (const part of [encryptedKey, iv, ciphertext, tag]) decodeBase64url(part)

  let plaintext: Uint8Array
  try {
    const result = await compactDecrypt(token, key.privateKey, {
      keyManagementAlgorithms: [header.alg],
      contentEncryptionAlgorithms: [header.enc],
    })
    plaintext = result.plaintext
  } catch (cause) {
    throw new TokenError('ERR_TOKEN_DECRYPTION_FAILED', { cause })
  }
  const claims = parseIdentifierPayload(plaintext, now)
  return { ...claims, format: 'jwe', kid: key.kid, alg: header.alg, enc: header.enc }
}
