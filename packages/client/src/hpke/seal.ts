import { concatBytes } from '@noble/hashes/utils.js'
import { encap } from './dhkem.js'
import { labeledExpand, labeledExtract } from './kdf.js'
import { AEAD_AES_128_GCM, hpkeSuiteId, KDF_HKDF_SHA256, type KemId } from './suite.js'
import { AEAD_CHACHA20_POLY1305, chachaSeal, KEM_XWING, xwingEncap } from './xwing.js'

const EMPTY = new Uint8Array(0)
/** RFC 9180 §5: mode_base, the only mode used (no PSK, no sender authentication). */
const MODE_BASE = 0x00
/** AES-128-GCM: Nk 16, Nn 12; ChaCha20-Poly1305: Nk 32, Nn 12 (RFC 9180 §7.3). */
const NK = 16
const NN = 12

/** RFC 9180 §5.1 KeySchedule for mode_base (default psk and psk_id): key and base_nonce. */
export function keySchedule(
  suiteId: Uint8Array,
  sharedSecret: Uint8Array,
  info: Uint8Array,
  nK: number = NK,
): { key: Uint8Array; baseNonce: Uint8Array } {
  const pskIdHash = labeledExtract(suiteId, EMPTY, 'psk_id_hash', EMPTY)
  const infoHash = labeledExtract(suiteId, EMPTY, 'info_hash', info)
  const context = concatBytes(Uint8Array.of(MODE_BASE), pskIdHash, infoHash)
  const secret = labeledExtract(suiteId, sharedSecret, 'secret', EMPTY)
  const key = labeledExpand(suiteId, secret, 'key', context, nK)
  const baseNonce = labeledExpand(suiteId, secret, 'base_nonce', context, NN)
  secret.fill(0)
  return { key, baseNonce }
}

// TypeScript's DOM typings want ArrayBuffer-backed views; every array here is one.
const view = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => bytes as Uint8Array<ArrayBuffer>

/** AES-128-GCM through WebCrypto (browsers, Node >= 19, edge runtimes): ciphertext || tag. */
export async function aesGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle
  if (!subtle) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available')
  const k = await subtle.importKey('raw', view(key), { name: 'AES-GCM' }, false, ['encrypt'])
  const params = { name: 'AES-GCM', iv: view(nonce), additionalData: view(aad), tagLength: 128 }
  return new Uint8Array(await subtle.encrypt(params, k, view(plaintext)))
}

/**
 * RFC 9180 §6.1 single-shot Seal in mode_base, suite (kemId, HKDF-SHA256, AES-128-GCM):
 * SetupBaseS(pkR, info), then Seal(aad, pt) at sequence number 0, whose nonce is base_nonce.
 */
export async function sealBase(
  kemId: KemId,
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  ephemeralSecretKey?: Uint8Array,
): Promise<{ enc: Uint8Array; ciphertext: Uint8Array }> {
  const { sharedSecret, enc } = encap(kemId, recipientPublicKey, ephemeralSecretKey)
  const suiteId = hpkeSuiteId(kemId, KDF_HKDF_SHA256, AEAD_AES_128_GCM)
  const { key, baseNonce } = keySchedule(suiteId, sharedSecret, info)
  sharedSecret.fill(0)
  const ciphertext = await aesGcmSeal(key, baseNonce, aad, plaintext)
  key.fill(0)
  return { enc, ciphertext }
}

/**
 * RFC 9180 §6.1 single-shot Seal in mode_base, suite (X-Wing, HKDF-SHA256, ChaCha20-Poly1305)
 * (draft-ietf-hpke-pq): X-Wing's shared secret goes straight into the key schedule.
 */
export function sealXWing(
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  eseed?: Uint8Array,
): { enc: Uint8Array; ciphertext: Uint8Array } {
  const { sharedSecret, enc } = xwingEncap(recipientPublicKey, eseed)
  const suiteId = hpkeSuiteId(KEM_XWING, KDF_HKDF_SHA256, AEAD_CHACHA20_POLY1305)
  const { key, baseNonce } = keySchedule(suiteId, sharedSecret, info, 32)
  sharedSecret.fill(0)
  const ciphertext = chachaSeal(key, baseNonce, aad, plaintext)
  key.fill(0)
  return { enc, ciphertext }
}
