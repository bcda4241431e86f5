/**
 * One battery for every key-agreement backend (in-process, PKCS#11): `agree` must give the Z that
 * an independent implementation (noble) computes from the sender's side, and refuse every
 * invalid point with the same code, whatever holds the private key.
 */
import { x25519 } from '@noble/curves/ed25519.js'
import { p256 } from '@noble/curves/nist.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { expect } from 'vitest'
import { AgreementError } from '../../src/keys/ring/agreement.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import invalid from '../vectors/hpke-invalid-public-keys.json' with { type: 'json' }

const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'))

/** The recipient's public key in the bytes `agree` takes. */
export function publicPoint(key: RingKey): Uint8Array {
  const { x, y } = key.publicJwk
  return key.crv === 'X25519' ? unb64(x) : Uint8Array.of(0x04, ...unb64(x), ...unb64(y!))
}

/** A fresh ephemeral key and Z computed by noble on the sender's side. */
export function senderSide(key: RingKey): { epk: Uint8Array; z: string } {
  if (key.crv === 'X25519') {
    const sk = x25519.utils.randomSecretKey()
    return {
      epk: x25519.getPublicKey(sk),
      z: bytesToHex(x25519.getSharedSecret(sk, publicPoint(key))),
    }
  }
  const sk = p256.utils.randomSecretKey()
  const shared = p256.getSharedSecret(sk, publicPoint(key), false)
  return { epk: p256.getPublicKey(sk, false), z: bytesToHex(shared.subarray(1, 33)) }
}

/** What `agree` makes of a point: Z in hex, or the AgreementError code. */
export async function agreeOutcome(key: RingKey, point: Uint8Array): Promise<string> {
  try {
    return bytesToHex(await key.agree(point))
  } catch (error) {
    if (!(error instanceof AgreementError)) throw error
    return error.code
  }
}

const P = 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff'

/** P-256 encodings that are not a point on the curve, with the reason. */
export function invalidP256(valid: Uint8Array): [string, Uint8Array][] {
  const x = valid.subarray(1, 33)
  const y = valid.subarray(33)
  const flipY = valid.slice()
  flipY[64]! ^= 1
  const hybrid = valid.slice()
  hybrid[0] = 0x06 | (y[31]! & 1)
  return [
    ['y with its low bit flipped (off the curve)', flipY],
    ['x = p (not below the field prime)', hexToBytes('04' + P + bytesToHex(y))],
    ['y = y + p (not below the field prime)', hexToBytes('04' + bytesToHex(x) + 'f'.repeat(64))],
    ['all-zero coordinates', Uint8Array.of(0x04, ...new Uint8Array(64))],
    ['the point at infinity (one zero byte)', Uint8Array.of(0x00)],
    ['the hybrid form (0x06/0x07) of a valid point', hybrid],
    ['the compressed form of a valid point', p256.Point.fromBytes(valid).toBytes(true)],
    ['64 bytes with no prefix', valid.subarray(1)],
    ['66 bytes', Uint8Array.of(...valid, 0)],
    ...invalid.p256_invalid.map((v) => [v.comment, hexToBytes(v.enc)] as [string, Uint8Array]),
  ]
}

/** X25519 inputs: small-order points (all-zero Z) and wrong lengths. */
export function invalidX25519(): [string, Uint8Array, string][] {
  return [
    ...invalid.x25519_small_order.map(
      (v) =>
        [`small order: ${v.comment}`, hexToBytes(v.u), 'ERR_AGREEMENT_DEGENERATE'] as [
          string,
          Uint8Array,
          string,
        ],
    ),
    ...invalid.x25519_wrong_length.map(
      (v) =>
        [v.comment, hexToBytes(v.enc), 'ERR_AGREEMENT_POINT_INVALID'] as [
          string,
          Uint8Array,
          string,
        ],
    ),
    ['empty', new Uint8Array(0), 'ERR_AGREEMENT_POINT_INVALID'],
  ]
}

/** Runs the whole battery against one key; `runs` fresh ephemeral keys for the valid side. */
export async function agreementBattery(key: RingKey, runs = 20): Promise<void> {
  for (let i = 0; i < runs; i++) {
    const { epk, z } = senderSide(key)
    expect(await agreeOutcome(key, epk)).toBe(z)
  }
  if (key.crv === 'P-256') {
    const valid = senderSide(key).epk
    for (const [why, point] of invalidP256(valid)) {
      expect([why, await agreeOutcome(key, point)]).toEqual([why, 'ERR_AGREEMENT_POINT_INVALID'])
    }
  } else {
    for (const [why, point, code] of invalidX25519()) {
      expect([why, await agreeOutcome(key, point)]).toEqual([why, code])
    }
  }
}
