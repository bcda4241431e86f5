import { createDecipheriv } from 'node:crypto'
import { base64url } from 'jose'
import { withSharedSecret, type Agreeing } from '../keys/ring/agreement.js'
import type { Binding } from './binding.js'
import { concatKdf } from './concat-kdf.js'
import type { EphemeralKey, JweAlg, JweEnc } from './jwe-header.js'

/** A JWE whose header and segment lengths have passed the allowlists (see openJwe). */
export interface CheckedJwe {
  /** The protected header segment as received: its ASCII is the AAD (RFC 7516 §5.2 step 14). */
  protectedHeader: string
  alg: JweAlg
  enc: JweEnc
  epk: EphemeralKey
  /** The epk decoded once from its coordinates: 0x04 || x || y (P-256), or x (X25519). */
  epkPoint: Uint8Array
  apu: string | undefined
  apv: string | undefined
  /** Checked against the connection already (checkJwe); decryption does not look at it. */
  binding: Binding
  encryptedKey: Uint8Array
  iv: Uint8Array
  ciphertext: Uint8Array
  tag: Uint8Array
}

const CEK_BITS: Record<JweEnc, number> = { A256GCM: 256, A128GCM: 128 }
const GCM: Record<JweEnc, 'aes-256-gcm' | 'aes-128-gcm'> = {
  A256GCM: 'aes-256-gcm',
  A128GCM: 'aes-128-gcm',
}
const KEK_BITS = 256 // ECDH-ES+A256KW
const AES_KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex') // RFC 3394 §2.2.3.1 default IV
const NO_PARTY_INFO = new Uint8Array(0)

/**
 * apu/apv bytes (RFC 7518 §4.6.1.2-3), decoded with jose's own decoder so that both decrypt
 * paths accept exactly the same spellings (the header checks allow any string of up to 128).
 */
function partyInfo(value: string | undefined): Uint8Array {
  return value === undefined ? NO_PARTY_INFO : base64url.decode(value)
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function unwrapKey(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  // RFC 3394 §2.2.2: the integrity check fails in final() when the wrapped key was altered.
  const decipher = createDecipheriv('id-aes256-wrap', kek, AES_KW_IV)
  return Buffer.concat([decipher.update(wrapped), decipher.final()])
}

/**
 * Decrypts a checked JWE with node:crypto: ECDH-ES key agreement, the Concat KDF (RFC 7518
 * §4.6.2), AES key unwrap for ECDH-ES+A256KW (RFC 3394), then AES-GCM with the protected header
 * as AAD (RFC 7516 §5.2). Any failure throws; the caller makes every one of them the same
 * ERR_TOKEN_DECRYPTION_FAILED (RFC 7516 §11.5).
 */
export async function decryptJweNative(jwe: CheckedJwe, key: Agreeing): Promise<Uint8Array> {
  const apu = partyInfo(jwe.apu)
  const apv = partyInfo(jwe.apv)
  // The jose path refuses equal apu and apv; keep the same rule so both paths agree.
  if (jwe.apu !== undefined && jwe.apv !== undefined && sameBytes(apu, apv)) {
    throw new Error('apu and apv must be distinct')
  }
  const cekBits = CEK_BITS[jwe.enc]
  // Z comes from the ring key (src/keys/ring/agreement.ts), which checks the point, refuses the
  // all-zero X25519 output, and wipes Z once the KDF has run.
  const derived = await withSharedSecret(key, jwe.epkPoint, (z) =>
    jwe.alg === 'ECDH-ES'
      ? // Direct Key Agreement: AlgorithmID is the enc value, keydatalen the CEK size.
        concatKdf(z, cekBits, jwe.enc, apu, apv)
      : // Key Agreement with Key Wrapping: AlgorithmID is the alg value, keydatalen the KEK size.
        concatKdf(z, KEK_BITS, jwe.alg, apu, apv),
  )
  let cek = derived
  if (jwe.alg !== 'ECDH-ES') {
    try {
      cek = unwrapKey(derived, jwe.encryptedKey)
    } finally {
      derived.fill(0)
    }
    if (cek.length * 8 !== cekBits) throw new Error('unwrapped key has the wrong length')
  }
  let decipher
  try {
    decipher = createDecipheriv(GCM[jwe.enc], cek, jwe.iv, { authTagLength: 16 })
  } finally {
    cek.fill(0) // the cipher holds its own key schedule
  }
  decipher.setAAD(Buffer.from(jwe.protectedHeader, 'ascii'))
  decipher.setAuthTag(jwe.tag)
  const plaintext = decipher.update(jwe.ciphertext)
  decipher.final() // checks the tag; GCM holds nothing back, so final() adds no bytes
  return plaintext
}
