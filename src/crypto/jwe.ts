import { isKeyUnavailable } from '../keys/ring/agreement.js'
import { isAccepted } from '../keys/stores/manifest.js'
import type { KeyResolver } from '../keys/ring/keyring.js'
import type { RingKey } from '../keys/ring/ring-key.js'
import { decodeBase64url } from './base64url.js'
import { checkSender, type Binding, type Sender } from './binding.js'
import { parseIdentifierPayload, type IdentifierClaims, type IdentifierKind } from './claims.js'
import { TokenError } from './errors.js'
import { checkEphemeralKey, parseJweHeader, type JweAlg, type JweEnc } from './jwe-header.js'
import { decryptJweNative, type CheckedJwe } from './jwe-native.js'

export type OpenedJwe<K extends IdentifierKind = 'mbi'> = IdentifierClaims<K> & {
  format: 'jwe'
  kid: string
  alg: JweAlg
  enc: JweEnc
  /** Whether the token named the sender's certificate (`x5t#S256`) and this connection had it. */
  binding: Binding
}

const IV_CHARS = 16 // 96-bit GCM IV (RFC 7518 §5.3)
const TAG_CHARS = 22 // 128-bit GCM tag
const WRAPPED_KEY_CHARS: Record<JweEnc, number> = { A256GCM: 54, A128GCM: 32 } // RFC 3394: CEK + 8

/**
 * The checks before any key is used (RFC 7516 §7.1 parsing, then the allowlists): the header,
 * the key its `kid` names (no trial decryption), the epk's curve, the segment lengths, and a
 * binding (`x5t#S256`) to the connection's client certificate: a bound token that arrives over
 * any other connection is refused before the key is used (ERR_TOKEN_SENDER_MISMATCH). The member
 * is in the protected header, so the AEAD's AAD covers it: changing it fails decryption.
 */
export function checkJwe(
  token: string,
  resolve: KeyResolver,
  now: Date,
  sender?: Sender,
): { key: RingKey; jwe: CheckedJwe } {
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
  const binding = checkSender(header.boundTo, sender)

  const key = resolve({ kid: header.kid })
  if (!key) throw new TokenError('ERR_TOKEN_KID_UNKNOWN')
  if (!isAccepted(key, now)) throw new TokenError('ERR_TOKEN_KEY_NOT_ACCEPTED')
  const { epk, point } = checkEphemeralKey(header.epk, key.crv)

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
    epkPoint: point,
    apu: header.apu,
    apv: header.apv,
    binding,
    encryptedKey: decodeBase64url(encryptedKey),
    iv: decodeBase64url(iv),
    ciphertext: decodeBase64url(ciphertext),
    tag: decodeBase64url(tag),
  }
  return { key, jwe }
}

export function opened<K extends IdentifierKind>(
  plaintext: Uint8Array,
  now: Date,
  kind: K,
  key: RingKey,
  jwe: CheckedJwe,
): OpenedJwe<K> {
  const claims = parseIdentifierPayload(plaintext, now, kind)
  return {
    ...claims,
    format: 'jwe',
    kid: key.kid,
    alg: jwe.alg,
    enc: jwe.enc,
    binding: jwe.binding,
  }
}

/**
 * Decrypts a JWE compact token (RFC 7516 §7.1) with the ring key its `kid` names: no trial
 * decryption. The header is checked against allowlists before the key is used; after that,
 * every failure is the one uniform ERR_TOKEN_DECRYPTION_FAILED (RFC 7516 §11.5). Decryption is node:crypto composed per RFC 7518 §4.6 (jwe-native.ts).
 */
export async function openJwe<K extends IdentifierKind = 'mbi'>(
  token: string,
  resolve: KeyResolver,
  now: Date,
  kind: K = 'mbi' as K,
  sender?: Sender,
): Promise<OpenedJwe<K>> {
  const { key, jwe } = checkJwe(token, resolve, now, sender)
  let plaintext: Uint8Array
  try {
    plaintext = await decryptJweNative(jwe, key)
  } catch (cause) {
    // A key store that cannot compute is the gateway's failure (503), not the token's.
    if (isKeyUnavailable(cause)) throw cause
    throw new TokenError('ERR_TOKEN_DECRYPTION_FAILED', { cause })
  }
  return opened(plaintext, now, kind, key, jwe)
}
