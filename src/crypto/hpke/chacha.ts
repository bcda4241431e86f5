import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import type { Aead } from './aead.js'
import { HpkeError } from './errors.js'
import { AEAD_CHACHA20_POLY1305 } from './suite.js'

/** RFC 9180 §7.3: Nk = 32, Nn = 12, Nt = 16 for ChaCha20-Poly1305. */
function checkLengths(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== 32 || nonce.length !== 12) throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
}

/**
 * ChaCha20-Poly1305 (RFC 8439), aead_id 0x0003, on @noble/ciphers: WebCrypto has no ChaCha20, so
 * the client and browsers use this; the gateway uses node:crypto (node-primitives.ts).
 */
export const CHACHA20_POLY1305: Aead = {
  id: AEAD_CHACHA20_POLY1305,
  nK: 32,
  nN: 12,
  nT: 16,
  async seal(key, nonce, aad, plaintext) {
    checkLengths(key, nonce)
    return chacha20poly1305(key, nonce, aad).encrypt(plaintext)
  },
  async open(key, nonce, aad, ciphertext) {
    checkLengths(key, nonce)
    if (ciphertext.length < 16) throw new HpkeError('ERR_HPKE_OPEN')
    try {
      return chacha20poly1305(key, nonce, aad).decrypt(ciphertext)
    } catch (cause) {
      throw new HpkeError('ERR_HPKE_OPEN', { cause })
    }
  },
}
