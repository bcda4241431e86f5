import { SealedSearchError } from '../../errors.js'
import type { Curve, PublicJwk } from '../jwk.js'

/**
 * The key-agreement boundary. A ring key computes the ECDH shared secret Z for an ephemeral
 * public key and never hands out its private key; every backend (in-process, PKCS#11, and a
 * later KMS) sits behind `KeyAgreement`. The encoding checks, the all-zero X25519 check and the
 * wipe of Z after use are here and nowhere else.
 *
 * An ephemeral public key is passed as bytes, the form RFC 9180 §7.1.1 serializes it in:
 * P-256 the uncompressed SEC1 point 0x04 || x || y (65 bytes), X25519 the 32-byte u-coordinate.
 * Z is the 32-byte x-coordinate of the shared point (P-256; RFC 7518 §4.6.2, RFC 9180 §7.1.1)
 * or the X25519 output (RFC 7748 §6.1).
 */

export type AgreementErrorCode =
  /** Not an encoding of a point on the key's curve (SEC1 §3.2.2 partial public-key validation). */
  | 'ERR_AGREEMENT_POINT_INVALID'
  /** A small-order X25519 point: the all-zero output (RFC 7748 §6.1, RFC 9180 §7.1.4). */
  | 'ERR_AGREEMENT_DEGENERATE'
  /** The key's store cannot compute now (token removed, module error, quota): not the token's fault. */
  | 'ERR_KEY_UNAVAILABLE'

export class AgreementError extends SealedSearchError<AgreementErrorCode> {
  constructor(code: AgreementErrorCode, options?: { cause?: unknown }) {
    super(code, MESSAGES[code], options)
    this.name = 'AgreementError'
  }
}

const MESSAGES: Record<AgreementErrorCode, string> = {
  ERR_AGREEMENT_POINT_INVALID: 'the ephemeral public key is not a point on the key’s curve',
  ERR_AGREEMENT_DEGENERATE: 'the ephemeral public key gives a degenerate shared secret',
  ERR_KEY_UNAVAILABLE: 'the key store cannot compute with this key now',
}

export function isKeyUnavailable(error: unknown): error is AgreementError {
  return error instanceof AgreementError && error.code === 'ERR_KEY_UNAVAILABLE'
}

/** Length of Z, and of each coordinate, for both curves. */
export const SHARED_SECRET_LENGTH = 32

/**
 * Where a private key lives. A backend computes Z for a point whose encoding `agreeWith` has
 * already checked; the P-256 curve check is its job (OpenSSL's point decoding does it in process;
 * a backend with `checksPoints: false` gets the point checked by `agreeWith` first).
 */
export interface KeyAgreement {
  /** 'in-process' (a node:crypto key in this process) or 'pkcs11' (a handle to a token's key). */
  readonly store: 'in-process' | 'pkcs11'
  readonly crv: Curve
  /** Whether derive() itself refuses a P-256 point off the curve. */
  readonly checksPoints: boolean
  /**
   * Z for `point`. Throws AgreementError: ERR_AGREEMENT_POINT_INVALID for a point the backend
   * refuses, ERR_KEY_UNAVAILABLE when its store cannot compute; the caller owns (and wipes) Z.
   */
  derive(point: Uint8Array): Uint8Array | Promise<Uint8Array>
  /**
   * Whether the store can compute now, for readiness (a key in process always can, so it has
   * none). Never throws: a store that cannot answer is unavailable.
   */
  available?(): Promise<boolean>
}

/** Constant-time all-zero test: OR every byte, branch once. */
function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0
  for (const b of bytes) acc |= b
  return acc === 0
}

/** The encoding rules for an ephemeral public key of `crv` (RFC 9180 §7.1.1). */
export function checkEncoding(crv: Curve, point: Uint8Array): void {
  const ok =
    crv === 'X25519'
      ? point.length === SHARED_SECRET_LENGTH
      : point.length === 2 * SHARED_SECRET_LENGTH + 1 && point[0] === 0x04
  if (!ok) throw new AgreementError('ERR_AGREEMENT_POINT_INVALID')
}

/** P-256's field prime p and coefficient b; a = -3 (SEC 2 §2.4.2). */
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn

function coordinate(point: Uint8Array, offset: number): bigint {
  const bytes = Buffer.from(point.buffer, point.byteOffset + offset, SHARED_SECRET_LENGTH)
  return BigInt(`0x${bytes.toString('hex')}`)
}

/**
 * Public-key validation of an uncompressed P-256 point (NIST SP 800-56A §5.6.2.3.4, SEC1
 * §3.2.2.1), for backends that do not check: both coordinates below p, and y² = x³ - 3x + b
 * (mod p). The point at infinity has no uncompressed encoding, and P-256's cofactor is 1, so a
 * point on the curve has order n. The point is public: nothing here needs constant time. (The
 * same verdict as OpenSSL's point decoding, `ECDH.convertKey`, at a tenth of its cost.)
 */
export function checkP256Point(point: Uint8Array): void {
  if (point.length !== 2 * SHARED_SECRET_LENGTH + 1 || point[0] !== 0x04) {
    throw new AgreementError('ERR_AGREEMENT_POINT_INVALID')
  }
  const x = coordinate(point, 1)
  const y = coordinate(point, 1 + SHARED_SECRET_LENGTH)
  const onCurve = (y * y - (x * x * x - 3n * x + P256_B)) % P256_P === 0n
  if (x >= P256_P || y >= P256_P || !onCurve) {
    throw new AgreementError('ERR_AGREEMENT_POINT_INVALID')
  }
}

/**
 * Z = DH(private key, point), checked: the encoding before the backend sees it, the point on the
 * curve (by the backend, or by `checkP256Point` first), and the X25519 output not all zero.
 */
export async function agreeWith(backend: KeyAgreement, point: Uint8Array): Promise<Uint8Array> {
  checkEncoding(backend.crv, point)
  if (backend.crv === 'P-256' && !backend.checksPoints) checkP256Point(point)
  // An in-process backend answers at once; only a promise is awaited (no microtask otherwise).
  const derived = backend.derive(point)
  const z = derived instanceof Promise ? await derived : derived
  if (z.length !== SHARED_SECRET_LENGTH) {
    z.fill(0)
    throw new AgreementError('ERR_KEY_UNAVAILABLE')
  }
  // RFC 7748 §6.1, RFC 9180 §7.1.4: refuse the all-zero output of a small-order point, whatever
  // the backend (OpenSSL refuses it too; a token might not).
  if (backend.crv === 'X25519' && isAllZero(z)) {
    throw new AgreementError('ERR_AGREEMENT_DEGENERATE')
  }
  return z
}

/** What a recipient needs of a ring key: its curve and `agree`. */
export interface Agreeing {
  readonly crv: Curve
  agree(ephemeralPublicKey: Uint8Array): Promise<Uint8Array>
}

/**
 * Runs `use` on Z and wipes Z afterwards, whether `use` returned or threw: the one place the
 * gateway's shared secrets are overwritten. `use` must copy out what it keeps (a KDF output).
 */
export async function withSharedSecret<T>(
  key: Agreeing,
  ephemeralPublicKey: Uint8Array,
  use: (z: Uint8Array) => T,
): Promise<T> {
  const z = await key.agree(ephemeralPublicKey)
  try {
    return use(z)
  } finally {
    z.fill(0)
  }
}

/** A key's public JWK and agreement backend from its private JWK (a file, a table row). */
export interface OpenedKey {
  publicJwk: PublicJwk
  backend: KeyAgreement
}
