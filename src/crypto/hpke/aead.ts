import { HpkeError } from './errors.js'
import { AEAD_AES_128_GCM } from './suite.js'

export interface Aead {
  readonly id: number
  /** Nk, Nn, Nt (RFC 9180 §7.3 table). */
  readonly nK: number
  readonly nN: number
  readonly nT: number
  seal(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
  ): Promise<Uint8Array>
  /** Throws ERR_HPKE_OPEN on any authentication failure. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
  ): Promise<Uint8Array>
}

// WebCrypto is in every browser and in Node (>= 19 as globalThis.crypto): no extra dependency,
// and AES-GCM runs in native, constant-time code instead of JavaScript.
function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle
  if (!s) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available')
  return s
}

// TypeScript's DOM typings want ArrayBuffer-backed views; every array here is one.
const view = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => bytes as Uint8Array<ArrayBuffer>

async function importKey(key: Uint8Array, usage: KeyUsage): Promise<CryptoKey> {
  if (key.length !== 16) throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
  return subtle().importKey('raw', view(key), { name: 'AES-GCM' }, false, [usage])
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== 12) throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
}

/** AES-128-GCM (NIST SP 800-38D), aead_id 0x0001: ciphertext || 16-byte tag. */
export const AES_128_GCM: Aead = {
  id: AEAD_AES_128_GCM,
  nK: 16,
  nN: 12,
  nT: 16,
  async seal(key, nonce, aad, plaintext) {
    checkNonce(nonce)
    const params = { name: 'AES-GCM', iv: view(nonce), additionalData: view(aad), tagLength: 128 }
    const k = await importKey(key, 'encrypt')
    return new Uint8Array(await subtle().encrypt(params, k, view(plaintext)))
  },
  async open(key, nonce, aad, ciphertext) {
    checkNonce(nonce)
    if (ciphertext.length < 16) throw new HpkeError('ERR_HPKE_OPEN')
    const params = { name: 'AES-GCM', iv: view(nonce), additionalData: view(aad), tagLength: 128 }
    const k = await importKey(key, 'decrypt')
    try {
      return new Uint8Array(await subtle().decrypt(params, k, view(ciphertext)))
    } catch (cause) {
      throw new HpkeError('ERR_HPKE_OPEN', { cause })
    }
  },
}
