import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto'
import type { Aead } from './aead.js'
import { HpkeError } from './errors.js'
import type { Kdf } from './kdf.js'
import type { Primitives } from './setup.js'
import { AEAD_AES_128_GCM, AEAD_CHACHA20_POLY1305, KDF_HKDF_SHA256 } from './suite.js'

/**
 * The gateway's HKDF-SHA256 and AES-128-GCM on node:crypto (OpenSSL), synchronous and without
 * a key import per call. Node-only: the client and browsers keep @noble/hashes and WebCrypto
 * (kdf.ts, aead.ts). Both pairs give the same bytes and the same refusals
 * (test/crypto/hpke-primitives.test.ts checks them against each other and the RFC 9180 vectors).
 */

const NH = 32
const TAG = 16
const ZERO_SALT = new Uint8Array(NH)

const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
  const mac = createHmac('sha256', key)
  for (const part of parts) mac.update(part)
  return mac.digest()
}

/** HKDF-SHA256 (RFC 5869) on createHmac, Extract and Expand apart as RFC 9180 §4 uses them. */
export const NODE_HKDF_SHA256: Kdf = {
  id: KDF_HKDF_SHA256,
  nH: NH,
  // RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); salt not provided: HashLen zeros.
  extract(salt, ikm) {
    const prk = hmac(salt.length === 0 ? ZERO_SALT : salt, ikm)
    const out = new Uint8Array(prk)
    prk.fill(0)
    return out
  },
  // RFC 5869 §2.3: T(i) = HMAC-Hash(PRK, T(i-1) || info || i), OKM = first L octets of T.
  expand(prk, info, length) {
    // RFC 5869 §2.3, as noble checks it: PRK of at least HashLen octets, L <= 255 * HashLen.
    if (prk.length < NH || !Number.isInteger(length) || length <= 0 || length > 255 * NH) {
      throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
    }
    const okm = new Uint8Array(length)
    let t: Uint8Array = new Uint8Array(0)
    for (let i = 1, at = 0; at < length; i++, at += NH) {
      const block = hmac(prk, t, info, Uint8Array.of(i))
      okm.set(block.subarray(0, Math.min(NH, length - at)), at)
      t.fill(0)
      t = block
    }
    t.fill(0)
    return okm
  },
}

/** RFC 9180 §7.3 Nk and Nn; node takes other lengths, so they are checked here. */
function checkLengths(aead: Aead, key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== aead.nK || nonce.length !== aead.nN) {
    throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
  }
}

/** An RFC 9180 AEAD on createCipheriv: ciphertext || 16-byte tag. */
function nodeAead(id: number, name: 'aes-128-gcm' | 'chacha20-poly1305', nK: number): Aead {
  // Both are AEAD ciphers with the same setAAD/setAuthTag/getAuthTag API; node's typings have one
  // overload per mode, so the union is narrowed to one of them.
  const cipherName = name as 'aes-128-gcm'
  const aead: Aead = {
    id,
    nK,
    nN: 12,
    nT: TAG,
    async seal(key, nonce, aad, plaintext) {
      checkLengths(aead, key, nonce)
      const cipher = createCipheriv(cipherName, key, nonce, { authTagLength: TAG })
      cipher.setAAD(aad)
      const body = cipher.update(plaintext)
      const rest = cipher.final()
      const out = new Uint8Array(body.length + rest.length + TAG)
      out.set(body)
      out.set(rest, body.length)
      out.set(cipher.getAuthTag(), body.length + rest.length)
      return out
    },
    async open(key, nonce, aad, ciphertext) {
      checkLengths(aead, key, nonce)
      if (ciphertext.length < TAG) throw new HpkeError('ERR_HPKE_OPEN')
      const end = ciphertext.length - TAG
      try {
        const decipher = createDecipheriv(cipherName, key, nonce, { authTagLength: TAG })
        decipher.setAAD(aad)
        decipher.setAuthTag(ciphertext.subarray(end))
        const body = decipher.update(ciphertext.subarray(0, end))
        // final() checks the tag; nothing decrypted leaves before it has.
        const rest = decipher.final()
        const out = new Uint8Array(body.length + rest.length)
        out.set(body)
        out.set(rest, body.length)
        body.fill(0)
        return out
      } catch (cause) {
        throw new HpkeError('ERR_HPKE_OPEN', { cause })
      }
    },
  }
  return aead
}

/** AES-128-GCM (NIST SP 800-38D), aead_id 0x0001. */
export const NODE_AES_128_GCM: Aead = nodeAead(AEAD_AES_128_GCM, 'aes-128-gcm', 16)

/** ChaCha20-Poly1305 (RFC 8439), aead_id 0x0003: the X-Wing token's AEAD. */
export const NODE_CHACHA20_POLY1305: Aead = nodeAead(
  AEAD_CHACHA20_POLY1305,
  'chacha20-poly1305',
  32,
)

/** The gateway's primitives for `cipherSuite(kemId, kdfId, aeadId, NODE_PRIMITIVES)`. */
export const NODE_PRIMITIVES: Primitives = { kdf: NODE_HKDF_SHA256, aead: NODE_AES_128_GCM }

/** The gateway's primitives for `xwingSuite(kdfId, aeadId, NODE_XWING_PRIMITIVES)`. */
export const NODE_XWING_PRIMITIVES: Primitives = {
  kdf: NODE_HKDF_SHA256,
  aead: NODE_CHACHA20_POLY1305,
}
