import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type ECDH,
  type KeyObject,
} from 'node:crypto'
import { AgreementError, type KeyAgreement } from './agreement.js'
import { KeyStoreError } from '../errors.js'
import type { PrivateJwk, PublicJwk } from '../jwk.js'

/**
 * The in-process backend: the private key is a node:crypto KeyObject held in this closure and
 * used only for key agreement. A KeyObject is not opaque to the process: the scalar was in
 * JavaScript memory while the key file was read, and a heap or core dump can reveal it
 * (SECURITY.md). Nothing outside src/keys/ can reach it: a ring key exposes `agree` only.
 */

/**
 * P-256: an OpenSSL ECDH context with the private scalar set once, at load. computeSecret decodes
 * the point from its bytes (EC_POINT_oct2point, which refuses coordinates not below p and points
 * off the curve: NIST SP 800-56A §5.6.2.3.4) and returns the x-coordinate of d·Q: one call, no
 * KeyObject import per token. It would take the hybrid 0x06/0x07 forms; checkEncoding
 * (agreement.ts) has already required 0x04.
 */
function p256Agreement(ecdh: ECDH): KeyAgreement {
  return {
    store: 'in-process',
    crv: 'P-256',
    checksPoints: true,
    derive(point) {
      let z: Buffer
      try {
        z = ecdh.computeSecret(point)
      } catch (cause) {
        throw new AgreementError('ERR_AGREEMENT_POINT_INVALID', { cause })
      }
      return new Uint8Array(z.buffer, z.byteOffset, z.byteLength)
    },
  }
}

/**
 * X25519: node has no raw X25519 public-key import before v24, and a JWK is its fastest import
 * (an SPKI goes through OpenSSL's decoder framework, several times slower); any 32 bytes are a
 * key (RFC 7748 §5), and OpenSSL refuses the all-zero output of a small-order point.
 */
function x25519Agreement(privateKey: KeyObject): KeyAgreement {
  return {
    store: 'in-process',
    crv: 'X25519',
    checksPoints: true,
    derive(point) {
      let z: Buffer
      try {
        const x = Buffer.from(point.buffer, point.byteOffset, point.byteLength).toString(
          'base64url',
        )
        const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' })
        z = diffieHellman({ privateKey, publicKey })
      } catch (cause) {
        throw new AgreementError('ERR_AGREEMENT_DEGENERATE', { cause })
      }
      return new Uint8Array(z.buffer, z.byteOffset, z.byteLength)
    },
  }
}

/** The backend and the public key computed from the private scalar itself (never the JWK's). */
function fromScalar(jwk: PrivateJwk): { backend: KeyAgreement; x?: string; y?: string } {
  if (jwk.crv === 'X25519') {
    // node builds an X25519 KeyObject from `d` alone, so its public half is derived from d.
    const privateKey = createPrivateKey({ key: { ...jwk }, format: 'jwk' })
    const { x } = createPublicKey(privateKey).export({ format: 'jwk' })
    return { backend: x25519Agreement(privateKey), x }
  }
  // setPrivateKey refuses a scalar outside [1, n-1] and computes d·G itself.
  const ecdh = createECDH('prime256v1')
  const d = Buffer.from(jwk.d, 'base64url')
  ecdh.setPrivateKey(d)
  d.fill(0)
  const point = ecdh.getPublicKey()
  return {
    backend: p256Agreement(ecdh),
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33).toString('base64url'),
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
  let made: ReturnType<typeof fromScalar>
  try {
    made = fromScalar(jwk)
  } catch (cause) {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${source}: not a usable key`, { cause })
  }
  if (made.x !== publicJwk.x || made.y !== publicJwk.y) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${source}: d is not the private key of x/y`)
  }
  return made.backend
}
