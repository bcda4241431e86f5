import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { sha3_256 } from '@noble/hashes/sha3.js'
import { concatBytes, randomBytes } from '@noble/hashes/utils.js'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'

/** draft-ietf-hpke-pq: X-Wing (ML-KEM-768 + X25519) as HPKE KEM 0x647a. */
export const KEM_XWING = 0x647a
/** RFC 9180 §7.3: ChaCha20-Poly1305, the X-Wing token's AEAD (docs/TOKENS.md says why). */
export const AEAD_CHACHA20_POLY1305 = 0x0003
/** X-Wing's public key pk_M || pk_X (draft-connolly-cfrg-xwing-kem §5). */
export const XWING_PUBLIC_KEY_LENGTH = 1216
const MLKEM768_PUBLIC_KEY_LENGTH = 1184

/** XWingLabel = "\./" || "/^\" (draft-connolly-cfrg-xwing-kem §5.4). */
const XWING_LABEL = Uint8Array.of(0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c)

/**
 * draft-connolly-cfrg-xwing-kem §5.4 Encapsulate(pk): ML-KEM-768 to pk_M, an ephemeral X25519 key
 * to pk_X, and the SHA3-256 combiner; `eseed` (64 bytes) only to replay a known encapsulation.
 */
export function xwingEncap(
  publicKey: Uint8Array,
  eseed: Uint8Array = randomBytes(64),
): { sharedSecret: Uint8Array; enc: Uint8Array } {
  if (publicKey.length !== XWING_PUBLIC_KEY_LENGTH || eseed.length !== 64) {
    throw new TypeError('not an X-Wing public key')
  }
  const pkM = publicKey.subarray(0, MLKEM768_PUBLIC_KEY_LENGTH)
  const pkX = publicKey.subarray(MLKEM768_PUBLIC_KEY_LENGTH)
  const ekX = eseed.subarray(32, 64)
  // FIPS 203 §7.2: encapsulate checks pk_M's encoding (modulus check) and throws if it fails.
  const { sharedSecret: ssM, cipherText: ctM } = ml_kem768.encapsulate(pkM, eseed.subarray(0, 32))
  // noble refuses the all-zero output of a small-order pk_X.
  const ssX = x25519.getSharedSecret(ekX, pkX)
  const ctX = x25519.getPublicKey(ekX)
  const sharedSecret = sha3_256(concatBytes(ssM, ssX, ctX, pkX, XWING_LABEL))
  ssM.fill(0)
  ssX.fill(0)
  return { sharedSecret, enc: concatBytes(ctM, ctX) }
}

/** ChaCha20-Poly1305 (RFC 8439) on @noble/ciphers: WebCrypto has no ChaCha20. */
export function chachaSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  return chacha20poly1305(key, nonce, aad).encrypt(plaintext)
}
