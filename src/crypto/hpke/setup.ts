import { AES_128_GCM, type Aead } from './aead.js'
import { contextKeys, HpkeContext } from './context.js'
import { DHKEM_P256 } from './p256.js'
import { nobleRecipient, type DhRecipient, type Dhkem } from './dhkem.js'
import { HpkeError } from './errors.js'
import { HKDF_SHA256, type Kdf } from './kdf.js'
import { CHACHA20_POLY1305 } from './chacha.js'
import {
  AEAD_AES_128_GCM,
  AEAD_CHACHA20_POLY1305,
  hpkeSuiteId,
  KDF_HKDF_SHA256,
  KEM_P256_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
  KEM_XWING,
} from './suite.js'
import { DHKEM_X25519 } from './x25519.js'
import { XWING_KEM, type XWingKem } from './xwing.js'

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
/** The X-Wing suite's KDF and AEAD in portable code (@noble/hashes, @noble/ciphers). */
export const PORTABLE_XWING_PRIMITIVES: Primitives = { kdf: HKDF_SHA256, aead: CHACHA20_POLY1305 }

/** A suite whose KEM is `K`: a DHKEM (CipherSuite) or X-Wing (XWingSuite). */
export interface SuiteOf<K> {
  readonly kem: K
  readonly kdfId: number
  /** The implementation of kdfId, for the KEM's and the key schedule's labeled HKDF. */
  readonly kdf: Kdf
  readonly aead: Aead
  /** RFC 9180 §5.1 suite_id. */
  readonly id: Uint8Array
}

export type CipherSuite = SuiteOf<Dhkem>
export type XWingSuite = SuiteOf<XWingKem>
/** What the key schedule and a context need of a suite, whatever its KEM. */
export type ScheduleSuite = Pick<SuiteOf<unknown>, 'id' | 'kdf' | 'aead'>

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

/**
 * The one hybrid suite, X-Wing with HKDF-SHA256 and ChaCha20-Poly1305 (docs/TOKENS.md says why),
 * or ERR_HPKE_SUITE_UNSUPPORTED: an allowlist of one.
 */
export function xwingSuite(
  kdfId: number,
  aeadId: number,
  primitives: Primitives = PORTABLE_XWING_PRIMITIVES,
): XWingSuite {
  if (kdfId !== KDF_HKDF_SHA256 || aeadId !== AEAD_CHACHA20_POLY1305) {
    throw new HpkeError('ERR_HPKE_SUITE_UNSUPPORTED')
  }
  if (primitives.kdf.id !== kdfId || primitives.aead.id !== aeadId) {
    throw new TypeError('the HPKE primitives do not implement the allowed KDF and AEAD')
  }
  const { kdf, aead } = primitives
  return { kem: XWING_KEM, kdfId, kdf, aead, id: hpkeSuiteId(KEM_XWING, kdfId, aeadId) }
}

/** What SetupBaseS needs of a KEM: Encap (a DHKEM's or X-Wing's). */
interface Encapsulating {
  encap(
    recipientPublicKey: Uint8Array,
    randomness?: Uint8Array,
    kdf?: Kdf,
  ): { sharedSecret: Uint8Array; enc: Uint8Array }
}

/**
 * RFC 9180 §5.1.1 SetupBaseS. `ephemeralSecretKey` (a DHKEM's skE, X-Wing's 64-byte eseed) only
 * for tests that replay a known encapsulation.
 */
export function setupBaseS(
  suite: SuiteOf<Encapsulating>,
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
  suite: ScheduleSuite,
  sharedSecret: Uint8Array,
  info: Uint8Array,
): HpkeContext {
  const schedule = contextKeys(suite.id, suite.aead, sharedSecret, info, suite.kdf)
  sharedSecret.fill(0)
  return new HpkeContext(suite.aead, schedule)
}

/** RFC 9180 §6.1 single-shot Seal (mode_base). */
export async function sealBase(
  suite: SuiteOf<Encapsulating>,
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
