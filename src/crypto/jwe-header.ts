import type { Curve } from '../keys/jwk.js'
import { decodeBase64url, decodeUtf8 } from './base64url.js'
import { parseX5tS256, X5T_S256 } from './binding.js'
import { TokenError } from './errors.js'
import { topLevelMemberCount } from './json-members.js'

/** Key management algorithms accepted (RFC 7518 §4.6). Everything else is refused by name. */
export const JWE_ALGS = ['ECDH-ES', 'ECDH-ES+A256KW'] as const
export type JweAlg = (typeof JWE_ALGS)[number]

/** Content encryption algorithms accepted (RFC 7518 §5.3). */
export const JWE_ENCS = ['A256GCM', 'A128GCM'] as const
export type JweEnc = (typeof JWE_ENCS)[number]

/** The only protected header members we read; any other member is refused. */
const ALLOWED_MEMBERS = new Set(['alg', 'enc', 'kid', 'epk', 'apu', 'apv', 'typ', 'cty', X5T_S256])

const MAX_HEADER_CHARS = 640
const MAX_KID_LENGTH = 128
const MAX_PARTY_INFO_CHARS = 128

export interface EphemeralKey {
  kty: 'EC' | 'OKP'
  crv: Curve
  x: string
  y?: string
}

export interface JweHeader {
  alg: JweAlg
  enc: JweEnc
  kid: string
  epk: EphemeralKey
  /** Agreement PartyUInfo and PartyVInfo as sent (RFC 7518 §4.6.1.2-3), for the Concat KDF. */
  apu?: string
  apv?: string
  /** `x5t#S256` decoded: the SHA-256 of the sender's client certificate (src/crypto/binding.ts). */
  boundTo?: Uint8Array
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Validates the protected header before any key is touched: allowlisted alg and enc, a kid,
 * no member outside the allowlist (so no zip, crit, jku, jwk, x5u, x5c: RFC 7516 §4.1).
 */
export function parseJweHeader(segment: string): Omit<JweHeader, 'epk'> & { epk: unknown } {
  if (segment.length === 0 || segment.length > MAX_HEADER_CHARS) {
    throw new TokenError('ERR_TOKEN_MALFORMED')
  }
  let header: unknown
  let text: string
  try {
    text = decodeUtf8(decodeBase64url(segment))
    header = JSON.parse(text)
  } catch (cause) {
    throw new TokenError('ERR_TOKEN_MALFORMED', { cause })
  }
  if (!isPlainObject(header)) throw new TokenError('ERR_TOKEN_MALFORMED')
  // RFC 7516 §4: member names must be unique; a repeated one is refused, never "last wins".
  const names = Object.keys(header)
  if (topLevelMemberCount(text) !== names.length) throw new TokenError('ERR_TOKEN_MALFORMED')

  const { alg, enc, kid } = header
  if (!(JWE_ALGS as readonly unknown[]).includes(alg))
    throw new TokenError('ERR_TOKEN_ALG_UNSUPPORTED')
  if (!(JWE_ENCS as readonly unknown[]).includes(enc))
    throw new TokenError('ERR_TOKEN_ENC_UNSUPPORTED')
  for (const name of names) {
    if (!ALLOWED_MEMBERS.has(name)) throw new TokenError('ERR_TOKEN_HEADER_UNSUPPORTED')
  }
  for (const name of ['apu', 'apv', 'typ', 'cty'] as const) {
    const v = header[name]
    if (v !== undefined && (typeof v !== 'string' || v.length > MAX_PARTY_INFO_CHARS)) {
      throw new TokenError('ERR_TOKEN_HEADER_UNSUPPORTED')
    }
  }
  // RFC 7518 §4.6.1.2-3 and RFC 7515 §2: apu and apv are base64url without padding. Only the
  // canonical spelling is taken, so both decrypt paths derive from the same bytes.
  for (const name of ['apu', 'apv'] as const) {
    if (header[name] !== undefined) decodeBase64url(header[name] as string)
  }
  if (kid === undefined) throw new TokenError('ERR_TOKEN_KID_MISSING')
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
    throw new TokenError('ERR_TOKEN_MALFORMED')
  }
  const { apu, apv } = header as { apu?: string; apv?: string }
  const x5t = header[X5T_S256]
  const boundTo = x5t === undefined ? undefined : parseX5tS256(x5t)
  return {
    alg: alg as JweAlg,
    enc: enc as JweEnc,
    kid,
    epk: header.epk,
    apu,
    apv,
    ...(boundTo ? { boundTo } : {}),
  }
}

/**
 * The epk (RFC 7518 §4.6.1.1) must be a bare public key on the same curve as the gateway key.
 * Returns it with its coordinates decoded, once, into the point's bytes (the form the key
 * agreement takes, RFC 9180 §7.1.1): 0x04 || x || y for P-256, x for X25519.
 */
export function checkEphemeralKey(
  epk: unknown,
  crv: Curve,
): { epk: EphemeralKey; point: Uint8Array } {
  if (!isPlainObject(epk)) throw new TokenError('ERR_TOKEN_EPK_INVALID')
  const kty = crv === 'X25519' ? 'OKP' : 'EC'
  const members = kty === 'EC' ? ['kty', 'crv', 'x', 'y'] : ['kty', 'crv', 'x']
  const names = Object.keys(epk)
  if (names.length !== members.length || !names.every((n) => members.includes(n))) {
    throw new TokenError('ERR_TOKEN_EPK_INVALID')
  }
  if (epk.kty !== kty || epk.crv !== crv) throw new TokenError('ERR_TOKEN_EPK_INVALID')
  const coordinateChars = 43 // 32 bytes, base64url without padding
  const coordinates = members.slice(2).map((m) => {
    const v = epk[m]
    if (typeof v !== 'string' || v.length !== coordinateChars) {
      throw new TokenError('ERR_TOKEN_EPK_INVALID')
    }
    return decodeBase64url(v)
  })
  const [x, y] = coordinates as [Uint8Array, Uint8Array | undefined]
  if (!y) return { epk: epk as unknown as EphemeralKey, point: x }
  const point = new Uint8Array(1 + x.length + y.length)
  point[0] = 0x04
  point.set(x, 1)
  point.set(y, 1 + x.length)
  return { epk: epk as unknown as EphemeralKey, point }
}
