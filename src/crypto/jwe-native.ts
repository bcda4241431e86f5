import { createDecipheriv, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto'
import { base64url } from 'jose'
import { concatKdf } from './concat-kdf.js'
import type { EphemeralKey, JweAlg, JweEnc } from './jwe-header.js'

/** A JWE whose header and segment lengths have passed the allowlists (see openJwe). */
export interface CheckedJwe {
  /** The protected header segment as received: its ASCII is the AAD (RFC 7516 §5.2 step 14). */
  protectedHeader: string
  alg: JweAlg
  enc: JweEnc
  epk: EphemeralKey
  apu: string | undefined
  apv: string | undefined
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

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0
  for (const b of bytes) acc |= b
  return acc === 0
}

/**
 * The ECDH-ES shared secret Z with the gateway key. createPublicKey validates the epk: a P-256
 * point must be on the curve, coordinates below p (public-key validation, NIST SP 800-56A
 * §5.6.2.3), which defeats invalid-curve attacks.
 */
function sharedSecret(epk: EphemeralKey, privateKey: KeyObject): Buffer {
  const jwk = epk.kty === 'EC' ? { kty: 'EC', crv: epk.crv, x: epk.x, y: epk.y } : { ...epk }
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' })
  const z = diffieHellman({ privateKey, publicKey })
  // RFC 7748 §6.1: an all-zero X25519 output comes from a low-order point; refuse it (OpenSSL 3
  // refuses it too; checked here as well so the rule does not depend on the library build).
  if (epk.crv === 'X25519' && isAllZero(z)) throw new Error('all-zero shared secret')
  return z
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
export function decryptJweNative(jwe: CheckedJwe, privateKey: KeyObject): Uint8Array {
  const apu = partyInfo(jwe.apu)
  const apv = partyInfo(jwe.apv)
  // The jose path refuses equal apu and apv; keep the same rule so both paths agree.
  if (jwe.apu !== undefined && jwe.apv !== undefined && sameBytes(apu, apv)) {
    throw new Error('apu and apv must be distinct')
  }
  const z = sharedSecret(jwe.epk, privateKey)
  const cekBits = CEK_BITS[jwe.enc]
  let cek: Buffer
  if (jwe.alg === 'ECDH-ES') {
    // Direct Key Agreement: AlgorithmID is the enc value, keydatalen the CEK size.
    cek = concatKdf(z, cekBits, jwe.enc, apu, apv)
  } else {
    // Key Agreement with Key Wrapping: AlgorithmID is the alg value, keydatalen the KEK size.
    cek = unwrapKey(concatKdf(z, KEK_BITS, jwe.alg, apu, apv), jwe.encryptedKey)
    if (cek.length * 8 !== cekBits) throw new Error('unwrapped key has the wrong length')
  }
  const decipher = createDecipheriv(GCM[jwe.enc], cek, jwe.iv, { authTagLength: 16 })
  decipher.setAAD(Buffer.from(jwe.protectedHeader, 'ascii'))
  decipher.setAuthTag(jwe.tag)
  const plaintext = decipher.update(jwe.ciphertext)
  decipher.final() // checks the tag; GCM holds nothing back, so final() adds no bytes
  return plaintext
}
