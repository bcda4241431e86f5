import { compactDecrypt } from 'jose'
import type { KeyRing, RingKey } from '../keys/keyring.js'
import { decodeBase64url } from './base64url.js'
import { parseIdentifierPayload, type IdentifierClaims, type IdentifierKind } from './claims.js'
import { TokenError } from './errors.js'
import { checkEphemeralKey, parseJweHeader, type JweAlg, type JweEnc } from './jwe-header.js'
import { decryptJweNative, type CheckedJwe } from './jwe-native.js'

export type OpenedJwe<K extends IdentifierKind = 'mbi'> = IdentifierClaims<K> & {
  format: 'jwe'
  kid: string
  alg: JweAlg
  enc: JweEnc
}

const IV_CHARS = 16 // 96-bit GCM IV (RFC 7518 §5.3)
const TAG_CHARS = 22 // 128-bit GCM tag
const WRAPPED_KEY_CHARS: Record<JweEnc, number> = { A256GCM: 54, A128GCM: 32 } // RFC 3394: CEK + 8

/**
 * The checks before any key is used (RFC 7516 §7.1 parsing, then the allowlists): the header,
 * the key its `kid` names (no trial decryption), the epk's curve, the segment lengths.
 */
function checkJwe(token: string, ring: KeyRing, now: Date): { key: RingKey; jwe: CheckedJwe } {
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
  const epk = checkEphemeralKey(header.epk, key.crv)

  // RFC 7518 §4.6: with Direct Key Agreement the JWE Encrypted Key is the empty octet sequence.
  const expectedKeyChars = header.alg === 'ECDH-ES' ? 0 : WRAPPED_KEY_CHARS[header.enc]
  if (encryptedKey.length !== expectedKeyChars) throw new TokenError('ERR_TOKEN_MALFORMED')
  if (iv.length !== IV_CHARS || tag.length !== TAG_CHARS || ciphertext.length === 0) {
    throw new TokenError('ERR_TOKEN_MALFORMED')
  }
  const jwe: CheckedJwe = {
    protectedHeader,
    alg: header.alg,
    enc: header.enc,
    epk,
    apu: header.apu,
    apv: header.apv,
    encryptedKey: decodeBase64url(encryptedKey),
    iv: decodeBase64url(iv),
    ciphertext: decodeBase64url(ciphertext),
    tag: decodeBase64url(tag),
  }
  return { key, jwe }
}

function opened<K extends IdentifierKind>(
  plaintext: Uint8Array,
  now: Date,
  kind: K,
  key: RingKey,
  jwe: CheckedJwe,
): OpenedJwe<K> {
  const claims = parseIdentifierPayload(plaintext, now, kind)
  return { ...claims, format: 'jwe', kid: key.kid, alg: jwe.alg, enc: jwe.enc }
}

/**
 * Decrypts a JWE compact token (RFC 7516 §7.1) with the ring key its `kid` names: no trial
 * decryption. The header is checked against allowlists before the key is used; after that,
 * every failure is the one uniform ERR_TOKEN_DECRYPTION_FAILED (RFC 7516 §11.5). Decryption is
 * node:crypto composed per RFC 7518 §4.6 (jwe-native.ts), synchronous: one promise per call.
 */
export function openJwe<K extends IdentifierKind = 'mbi'>(
  token: string,
  ring: KeyRing,
  now: Date,
  kind: K = 'mbi' as K,
): Promise<OpenedJwe<K>> {
  try {
    const { key, jwe } = checkJwe(token, ring, now)
    let plaintext: Uint8Array
    try {
      plaintext = decryptJweNative(jwe, key.privateKey)
    } catch (cause) {
      throw new TokenError('ERR_TOKEN_DECRYPTION_FAILED', { cause })
    }
    return Promise.resolve(opened(plaintext, now, kind, key, jwe))
  } catch (error) {
    return Promise.reject(error)
  }
}

/** The same checks, decrypted by jose's compactDecrypt: the reference for tests and the bench. */
export async function openJweWithJose<K extends IdentifierKind = 'mbi'>(
  token: string,
  ring: KeyRing,
  now: Date,
  kind: K = 'mbi' as K,
): Promise<OpenedJwe<K>> {
  const { key, jwe } = checkJwe(token, ring, now)
  let plaintext: Uint8Array
  try {
    const result = await compactDecrypt(token, key.privateKey, {
      keyManagementAlgorithms: [jwe.alg],
      contentEncryptionAlgorithms: [jwe.enc],
    })
    plaintext = result.plaintext
  } catch (cause) {
    throw new TokenError('ERR_TOKEN_DECRYPTION_FAILED', { cause })
  }
  return opened(plaintext, now, kind, key, jwe)
}
