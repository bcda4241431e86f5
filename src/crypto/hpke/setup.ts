import { AES_128_GCM, type Aead } from './aead.js'
import { contextKeys, HpkeContext } from './context.js'
import { DHKEM_P256 } from './p256.js'
import { nobleRecipient, type DhRecipient, type Dhkem } from './dhkem.js'
import { HpkeError } from './errors.js'
import { HKDF_SHA256, type Kdf } from './kdf.js'
import {
  AEAD_AES_128_GCM,
  hpkeSuiteId,
  KDF_HKDF_SHA256,
  KEM_P256_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
} from './suite.js'
import { DHKEM_X25519 } from './x25519.js'

/**
 * Implementations of a suite's KDF and AEAD, injected as DhRecipient is: `PORTABLE_PRIMITIVES`
 * (@noble/hashes and WebCrypto: the client, browsers, edge runtimes) by default, and
 * `NODE_PRIMITIVES` (node-primitives.ts: node:crypto, the gateway only).
 */
export interface Primitives {
  readonly kdf: Kdf
  readonly aead: Aead
}

export const PORTABLE_PRIMITIVES: Primitives = { kdf: HKDF_SHA256, aead: AES_128_GCM }

export interface CipherSuite {
  readonly kem: Dhkem
  readonly kdfId: number
  /** The implementation of kdfId, for the KEM's and the key schedule's labeled HKDF. */
  readonly kdf: Kdf
  readonly aead: Aead
  /** RFC 9180 §5.1 suite_id. */
  readonly id: Uint8Array
}

const KEMS: ReadonlyMap<number, Dhkem> = new Map([
  [KEM_X25519_HKDF_SHA256, DHKEM_X25519],
  [KEM_P256_HKDF_SHA256, DHKEM_P256],
])
const AEADS: ReadonlyMap<number, Aead> = new Map([[AEAD_AES_128_GCM, AES_128_GCM]])

/**
 * The suite for three registry ids, or ERR_HPKE_SUITE_UNSUPPORTED: an allowlist, not a lookup.
 * `primitives` only chooses how the allowed KDF and AEAD are computed, never which are allowed.
 */
export function cipherSuite(
  kemId: number,
  kdfId: number,
  aeadId: number,
  primitives: Primitives = PORTABLE_PRIMITIVES,
): CipherSuite {
  const kem = KEMS.get(kemId)
  const aead = AEADS.get(aeadId)
  if (!kem || !aead || kdfId !== KDF_HKDF_SHA256) throw new HpkeError('ERR_HPKE_SUITE_UNSUPPORTED')
  // A programmer's error (primitives for another KDF or AEAD), not a property of the token.
  if (primitives.kdf.id !== kdfId || primitives.aead.id !== aead.id) {
    throw new TypeError('the HPKE primitives do not implement the allowed KDF and AEAD')
  }
  const { kdf } = primitives
  return { kem, kdfId, kdf, aead: primitives.aead, id: hpkeSuiteId(kemId, kdfId, aeadId) }
}

/** RFC 9180 §5.1.1 SetupBaseS. */
export function setupBaseS(
  suite: CipherSuite,
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  ephemeralSecretKey?: Uint8Array,
): { enc: Uint8Array; context: HpkeContext } {
  const { sharedSecret, enc } = suite.kem.encap(recipientPublicKey, ephemeralSecretKey, suite.kdf)
  const schedule = contextKeys(suite.id, suite.aead, sharedSecret, info, suite.kdf)
  sharedSecret.fill(0)
  return { enc, context: new HpkeContext(suite.aead, schedule) }
}

/** RFC 9180 §5.1.1 SetupBaseR, with a raw private key (noble). */
export function setupBaseR(
  suite: CipherSuite,
  enc: Uint8Array,
  recipientSecretKey: Uint8Array,
  info: Uint8Array,
  recipientPublicKey?: Uint8Array,
): HpkeContext {
  const recipient = nobleRecipient(suite.kem.group, recipientSecretKey, recipientPublicKey)
  return setupBaseRWith(suite, enc, recipient, info)
}

/** RFC 9180 §5.1.1 SetupBaseR, with the private key held by `recipient` (e.g. node:crypto). */
export function setupBaseRWith(
  suite: CipherSuite,
  enc: Uint8Array,
  recipient: DhRecipient,
  info: Uint8Array,
): HpkeContext {
  const sharedSecret = suite.kem.decapWith(enc, recipient, suite.kdf)
  const schedule = contextKeys(suite.id, suite.aead, sharedSecret, info, suite.kdf)
  sharedSecret.fill(0)
  return new HpkeContext(suite.aead, schedule)
}

/**
 * RFC 9180 §5.1.1 SetupBaseR from Decap's shared_secret, computed elsewhere (node-recipient.ts);
 * wipes it once the key schedule has run.
 */
export function setupBaseRFromSecret(
  suite: CipherSuite,
  sharedSecret: Uint8Array,
  info: Uint8Array,
): HpkeContext {
  const schedule = contextKeys(suite.id, suite.aead, sharedSecret, info, suite.kdf)
  sharedSecret.fill(0)
  return new HpkeContext(suite.aead, schedule)
}

/** RFC 9180 §6.1 single-shot Seal (mode_base). */
export async function sealBase(
  suite: CipherSuite,
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Promise<{ enc: Uint8Array; ciphertext: Uint8Array }> {
  const { enc, context } = setupBaseS(suite, recipientPublicKey, info)
  return { enc, ciphertext: await context.seal(aad, plaintext) }
}

/** RFC 9180 §6.1 single-shot Open (mode_base). */
export async function openBase(
  suite: CipherSuite,
  enc: Uint8Array,
  recipientSecretKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  recipientPublicKey?: Uint8Array,
): Promise<Uint8Array> {
  const context = setupBaseR(suite, enc, recipientSecretKey, info, recipientPublicKey)
  return context.open(aad, ciphertext)
}

/** RFC 9180 §6.1 single-shot Open (mode_base), with the private key held by `recipient`. */
export async function openBaseWith(
  suite: CipherSuite,
  enc: Uint8Array,
  recipient: DhRecipient,
  info: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  return setupBaseRWith(suite, enc, recipient, info).open(aad, ciphertext)
}
