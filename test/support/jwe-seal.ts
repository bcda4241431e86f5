import {
  createCipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto'
import { base64url } from 'jose'
import { concatKdf } from '../../src/crypto/concat-kdf.js'
import type { PublicJwk } from '../../src/keys/jwk.js'
import { b64 } from './tokens.js'

/**
 * A sender that seals exactly the protected header it is given, with the shared secret Z it is
 * given: for tokens no JOSE library would produce (equal apu and apv, a low-order epk with an
 * all-zero Z, odd apu spellings), so that both decrypt paths can be asked about them.
 */
export function sealJwe(
  header: Record<string, unknown>,
  z: Uint8Array,
  plaintext: string,
  /** The apu/apv bytes the sender means, when its header spells them oddly. */
  partyInfo: { apu?: Uint8Array; apv?: Uint8Array } = {},
  /** Put a UTF-8 byte order mark before the header's JSON. */
  { headerBom = false } = {},
): string {
  const alg = header.alg as string
  const enc = header.enc as string
  const party = (v: unknown) => (typeof v === 'string' ? base64url.decode(v) : new Uint8Array(0))
  const apu = partyInfo.apu ?? party(header.apu)
  const apv = partyInfo.apv ?? party(header.apv)
  const cekBits = enc === 'A128GCM' ? 128 : 256
  let cek: Uint8Array
  let encryptedKey = ''
  if (alg === 'ECDH-ES') {
    cek = concatKdf(z, cekBits, enc, apu, apv)
  } else {
    const kek = concatKdf(z, 256, alg, apu, apv)
    cek = randomBytes(cekBits / 8)
    const wrap = createCipheriv('id-aes256-wrap', kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'))
    encryptedKey = b64(Buffer.concat([wrap.update(cek), wrap.final()]))
  }
  const protectedHeader = b64((headerBom ? '\ufeff' : '') + JSON.stringify(header))
  const iv = randomBytes(12)
  const cipher = createCipheriv(cekBits === 128 ? 'aes-128-gcm' : 'aes-256-gcm', cek, iv)
  cipher.setAAD(Buffer.from(protectedHeader, 'ascii'))
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  const tag = cipher.getAuthTag()
  return [protectedHeader, encryptedKey, b64(iv), b64(ciphertext), b64(tag)].join('.')
}

/** A fresh ephemeral key on the recipient's curve: its public JWK and the shared secret Z. */
export function ephemeralAgreement(recipient: PublicJwk): {
  epk: Record<string, string>
  z: Buffer
} {
  const pair =
    recipient.crv === 'X25519'
      ? generateKeyPairSync('x25519')
      : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { kty, crv, x, y } = pair.publicKey.export({ format: 'jwk' })
  const epk: Record<string, string> = { kty: kty!, crv: crv!, x: x! }
  if (y !== undefined) epk.y = y
  const { kty: rk, crv: rc, x: rx, y: ry } = recipient
  const publicKey = { kty: rk, crv: rc, x: rx, ...(ry ? { y: ry } : {}) }
  const z = diffieHellman({
    privateKey: pair.privateKey,
    publicKey: createPublicKey({ key: publicKey, format: 'jwk' }),
  })
  return { epk, z }
}
