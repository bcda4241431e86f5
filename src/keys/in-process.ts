import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
} from 'node:crypto'
import { AgreementError, type KeyAgreement } from './agreement.js'
import { KeyStoreError } from './errors.js'
import type { Curve, PrivateJwk, PublicJwk } from './jwk.js'

/**
 * The in-process backend: the private key is a node:crypto KeyObject held in this closure and
 * used only for key agreement. A KeyObject is not opaque to the process: the scalar was in
 * JavaScript memory while the key file was read, and a heap or core dump can reveal it
 * (SECURITY.md). Nothing outside src/keys/ can reach it: a ring key exposes `agree` only.
 */

const b64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')

/** The ephemeral point as a node public KeyObject; node checks a P-256 point is on the curve. */
function importPoint(crv: Curve, point: Uint8Array): KeyObject {
  const jwk =
    crv === 'X25519'
      ? { kty: 'OKP', crv, x: b64(point) }
      : { kty: 'EC', crv, x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)) }
  try {
    return createPublicKey({ key: jwk, format: 'jwk' })
  } catch (cause) {
    throw new AgreementError('ERR_AGREEMENT_POINT_INVALID', { cause })
  }
}

/** A backend computing Z with `privateKey` (node:crypto diffieHellman). */
export function inProcessAgreement(crv: Curve, privateKey: KeyObject): KeyAgreement {
  return {
    store: 'in-process',
    crv,
    checksPoints: true,
    derive(point) {
      const publicKey = importPoint(crv, point)
      let z: Buffer
      try {
        // OpenSSL 3 refuses the all-zero X25519 output of a small-order point here already.
        z = diffieHellman({ privateKey, publicKey })
      } catch (cause) {
        throw new AgreementError('ERR_AGREEMENT_DEGENERATE', { cause })
      }
      return new Uint8Array(z.buffer, z.byteOffset, z.byteLength)
    },
  }
}

/** The public key of the private scalar itself, as JWK coordinates. */
function derivePublic(jwk: PrivateJwk, privateKey: KeyObject): { x?: string; y?: string } {
  if (jwk.crv === 'X25519') {
    // node builds an X25519 KeyObject from `d` alone, so its public half is derived from d.
    return createPublicKey(privateKey).export({ format: 'jwk' })
  }
  // A P-256 KeyObject keeps the JWK's x and y as they are (OpenSSL does not check them against
  // d), so derive d·G with ECDH instead.
  const point = createECDH('prime256v1')
  point.setPrivateKey(Buffer.from(jwk.d, 'base64url'))
  const uncompressed = point.getPublicKey()
  return {
    x: uncompressed.subarray(1, 33).toString('base64url'),
    y: uncompressed.subarray(33).toString('base64url'),
  }
}

/**
 * The backend for a private JWK, refusing one whose `d` is not the private key of its `x` (and
 * `y`). `source` names the key (a file name) in errors; the JWK's content never appears in one.
 */
export function inProcessFromJwk(
  jwk: PrivateJwk,
  publicJwk: PublicJwk,
  source: string,
): KeyAgreement {
  let privateKey: KeyObject
  let derived: { x?: string; y?: string }
  try {
    privateKey = createPrivateKey({ key: { ...jwk }, format: 'jwk' })
    derived = derivePublic(jwk, privateKey)
  } catch (cause) {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${source}: not a usable key`, { cause })
  }
  if (derived.x !== publicJwk.x || derived.y !== publicJwk.y) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${source}: d is not the private key of x/y`)
  }
  return inProcessAgreement(jwk.crv, privateKey)
}
