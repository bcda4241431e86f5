import { base64url } from 'jose'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { sealBase, sealXWing } from './hpke/seal.js'
import { AEAD_CHACHA20_POLY1305, KEM_XWING, XWING_PUBLIC_KEY_LENGTH } from './hpke/xwing.js'
import {
  AEAD_AES_128_GCM,
  i2osp,
  KDF_HKDF_SHA256,
  KEM_P256_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
  type KemId,
} from './hpke/suite.js'
import { certificateThumbprint, type BindingOptions } from './binding.js'
import type { GatewayJwk } from './jwe.js'
import { identifierPayload, type IdentifierKind, type PayloadOptions } from './payload.js'

export type HpkeEncryptOptions = PayloadOptions & BindingOptions

/** docs/TOKENS.md: version 2 names the key by its published `hpke_key_id`. */
const HPKE_TOKEN_VERSION = 0x02
/** Version 3: version 2's layout, bound to the sender's mTLS client certificate. */
const HPKE_TOKEN_VERSION_BOUND = 0x03
/** Binds every token to this purpose (docs/TOKENS.md); the gateway derives the same. */
const TOKEN_INFO_LABEL = 'sealed-search mbi v1'

/** Strict base64url of exactly `length` bytes (one spelling per value), or a TypeError. */
function decodeMember(value: string | undefined, length: number, name: string): Uint8Array {
  let bytes: Uint8Array | undefined
  try {
    bytes = value === undefined ? undefined : base64url.decode(value)
  } catch {
    bytes = undefined
  }
  if (!bytes || bytes.length !== length || base64url.encode(bytes) !== value) {
    throw new TypeError(`the gateway key's ${name} is not base64url of ${length} bytes`)
  }
  return bytes
}

type AnyKemId = KemId | typeof KEM_XWING

/** Whether a JWK is an X-Wing key in the AKP form of the JOSE HPKE drafts (docs/TOKENS.md). */
export function isXWingJwk(jwk: GatewayJwk): boolean {
  return jwk.kty === 'AKP' && jwk.alg === 'X-Wing'
}

/** The KEM for a JWK, and SerializePublicKey(pkR) (RFC 9180 §7.1.1) from its coordinates. */
function recipient(jwk: GatewayJwk): { kemId: AnyKemId; publicKey: Uint8Array } {
  if (isXWingJwk(jwk)) {
    return { kemId: KEM_XWING, publicKey: decodeMember(jwk.pub, XWING_PUBLIC_KEY_LENGTH, 'pub') }
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'X25519') {
    return { kemId: KEM_X25519_HKDF_SHA256, publicKey: decodeMember(jwk.x, 32, 'x') }
  }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') {
    const x = decodeMember(jwk.x, 32, 'x')
    const y = decodeMember(jwk.y, 32, 'y')
    return { kemId: KEM_P256_HKDF_SHA256, publicKey: concatBytes(Uint8Array.of(0x04), x, y) }
  }
  throw new TypeError('the gateway key is neither OKP X25519, EC P-256 nor AKP X-Wing')
}

/** The key's `hpke_key_id` (docs/TOKENS.md): an integer from 1 to 65535, or a TypeError. */
export function hpkeKeyIdOf(jwk: GatewayJwk): number {
  const id = jwk.hpke_key_id
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 0xffff) {
    throw new TypeError('the gateway key has no hpke_key_id (1 to 65535): use JWE with this key')
  }
  return id
}

/** hdr = version || key_id || kem_id || kdf_id || aead_id (docs/TOKENS.md, after RFC 9458 §4.3). */
function tokenHeader(keyId: number, kemId: AnyKemId, bound: boolean): Uint8Array {
  return concatBytes(
    Uint8Array.of(bound ? HPKE_TOKEN_VERSION_BOUND : HPKE_TOKEN_VERSION),
    i2osp(keyId, 2),
    i2osp(kemId, 2),
    i2osp(KDF_HKDF_SHA256, 2),
    i2osp(kemId === KEM_XWING ? AEAD_CHACHA20_POLY1305 : AEAD_AES_128_GCM, 2),
  )
}

/**
 * HPKE `info` (RFC 9180 §5.1): label || 0x00 || hdr || thumbprint [|| cert]. A version 3 token
 * ends it with the SHA-256 of the sender's client certificate, which the gateway takes from the
 * connection (docs/TOKENS.md, "Version 3").
 */
function tokenInfo(header: Uint8Array, thumbprint: Uint8Array, cert?: Uint8Array): Uint8Array {
  const parts = [utf8ToBytes(TOKEN_INFO_LABEL), Uint8Array.of(0), header, thumbprint]
  return concatBytes(...(cert === undefined ? parts : [...parts, cert]))
}

/** Seals an identifier payload to a gateway key as an HPKE token. */
export async function encryptHpke(
  identifier: string,
  jwk: GatewayJwk,
  options: HpkeEncryptOptions = {},
  kind: IdentifierKind = 'mbi',
): Promise<string> {
  const payload = identifierPayload(identifier, options, kind)
  if (!jwk.kid) throw new TypeError('the gateway key has no kid')
  // The kid is the key's RFC 7638 SHA-256 thumbprint: 32 bytes, bound through info.
  const thumbprint = decodeMember(jwk.kid, 32, 'kid')
  const { kemId, publicKey } = recipient(jwk)
  const { bindCertificate } = options
  const cert = bindCertificate === undefined ? undefined : certificateThumbprint(bindCertificate)
  const header = tokenHeader(hpkeKeyIdOf(jwk), kemId, cert !== undefined)
  const plaintext = new TextEncoder().encode(payload)
  // The header is the AAD as well as part of info (docs/TOKENS.md, after RFC 9458 §4.3).
  const info = tokenInfo(header, thumbprint, cert)
  const { enc, ciphertext } =
    kemId === KEM_XWING
      ? sealXWing(publicKey, info, header, plaintext)
      : await sealBase(kemId, publicKey, info, header, plaintext)
  return base64url.encode(concatBytes(header, enc, ciphertext))
}

/**
 * Encrypts an MBI to a gateway key as an HPKE token (RFC 9180 base mode; layout in
 * docs/TOKENS.md): one base64url string, no dots. The header names the key by the `hpke_key_id`
 * the gateway published; `info` binds the full `kid` (the key's RFC 7638 thumbprint).
 * With `bindCertificate` the token is version 3: `info` ends with the certificate's SHA-256.
 * Runs in browsers and edge runtimes: WebCrypto (AES-GCM) and noble (X25519, P-256) only.
 */
export function encryptMbiHpke(
  mbi: string,
  jwk: GatewayJwk,
  options: HpkeEncryptOptions = {},
): Promise<string> {
  return encryptHpke(mbi, jwk, options, 'mbi')
}
