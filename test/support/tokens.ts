import { concatBytes } from '@noble/hashes/utils.js'
import { CompactEncrypt, importJWK, type CompactJWEHeaderParameters } from 'jose'
import { encodeHeader, tokenInfo } from '../../src/crypto/hpke/framing.js'
import { cipherSuite, sealBase } from '../../src/crypto/hpke/setup.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'

export function b64(value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64url')
}

export function unb64(value: string): Buffer {
  return Buffer.from(value, 'base64url')
}

/** Encrypts any plaintext to a ring key with any protected header (for negative tests). */
export async function jweFor(
  key: RingKey,
  plaintext: string,
  header: Partial<CompactJWEHeaderParameters> & Record<string, unknown> = {},
): Promise<string> {
  const alg = (header.alg as string | undefined) ?? 'ECDH-ES'
  const pub = await importJWK({ ...key.publicJwk }, alg)
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg, enc: 'A256GCM', kid: key.kid, ...header })
    .encrypt(pub)
}

/** Rewrites a token's protected header (the token then fails authentication, if it gets that far). */
export function reheader(token: string, edit: (h: Record<string, unknown>) => void): string {
  const [h, ...rest] = token.split('.')
  const header = JSON.parse(unb64(h!).toString('utf8')) as Record<string, unknown>
  edit(header)
  return [b64(JSON.stringify(header)), ...rest].join('.')
}

/** Replaces segment `index` (0 header, 1 key, 2 iv, 3 ciphertext, 4 tag) of a JWE. */
export function replaceSegment(token: string, index: number, value: string): string {
  const parts = token.split('.')
  parts[index] = value
  return parts.join('.')
}

/** Flips one bit of the decoded segment `index`. */
export function flipBit(token: string, index: number, bit = 0): string {
  const parts = token.split('.')
  const bytes = unb64(parts[index]!)
  bytes[bit >> 3] = bytes[bit >> 3]! ^ (1 << (bit & 7))
  parts[index] = b64(bytes)
  return parts.join('.')
}

/**
 * Seals any plaintext to an X25519 ring key as an HPKE token (docs/TOKENS.md layout), for
 * payloads the client library refuses to make; with `certThumbprint` (32 bytes) version 3.
 */
export async function hpkeFor(
  key: RingKey,
  plaintext: string,
  certThumbprint?: Uint8Array,
): Promise<string> {
  if (key.crv !== 'X25519' || key.hpkeKeyId === undefined) throw new Error('an X25519 ring key')
  const bound = certThumbprint !== undefined
  const header = encodeHeader({ bound, keyId: key.hpkeKeyId, kemId: 0x20, kdfId: 1, aeadId: 1 })
  const info = tokenInfo(header, new Uint8Array(unb64(key.kid)), certThumbprint)
  const { enc, ciphertext } = await sealBase(
    cipherSuite(0x0020, 0x0001, 0x0001),
    new Uint8Array(unb64(key.publicJwk.x)),
    info,
    header,
    new TextEncoder().encode(plaintext),
  )
  return b64(concatBytes(header, enc, ciphertext))
}
