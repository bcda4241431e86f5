import { concatBytes } from '@noble/hashes/utils.js'
import { HpkeError } from './errors.js'
import { HKDF_SHA256, labeledExpand, labeledExtract, type Kdf } from './kdf.js'
import { kemSuiteId, type KemId } from './suite.js'

const EMPTY = new Uint8Array(0)

/** The Diffie-Hellman group under one DHKEM (RFC 9180 §4.1). */
export interface DhGroup {
  readonly kemId: KemId
  /** Nsecret, Nenc, Npk, Nsk (RFC 9180 §7.1 table). */
  readonly nSecret: number
  readonly nEnc: number
  readonly nPk: number
  readonly nSk: number
  randomSecretKey(): Uint8Array
  /** SerializePublicKey(pk(sk)). */
  publicKey(secretKey: Uint8Array): Uint8Array
  /** DeserializePublicKey: throws ERR_HPKE_DESERIALIZE for any encoding that is not a valid key. */
  checkPublicKey(publicKey: Uint8Array): void
  /** DH(sk, pk), validated: throws ERR_HPKE_VALIDATION instead of returning a degenerate value. */
  dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array
}

/**
 * The recipient's half of a DHKEM with a raw scalar (`nobleRecipient`). The gateway's keys compute
 * DH behind `agree` instead (node-recipient.ts, then `decapShared`).
 */
export interface DhRecipient {
  readonly kemId: KemId
  /** SerializePublicKey(pk(skR)), for the KEM context. */
  readonly publicKey: Uint8Array
  /**
   * DeserializePublicKey(enc), then DH(skR, pkE): throws ERR_HPKE_DESERIALIZE for an encoding
   * that is not a valid key and ERR_HPKE_VALIDATION for a degenerate shared secret.
   */
  dh(enc: Uint8Array): Uint8Array
}

/** A recipient whose private key is a raw scalar, for the noble group of its KEM. */
export function nobleRecipient(
  group: DhGroup,
  secretKey: Uint8Array,
  publicKey: Uint8Array = group.publicKey(secretKey),
): DhRecipient {
  return {
    kemId: group.kemId,
    publicKey,
    dh(enc) {
      group.checkPublicKey(enc)
      return group.dh(secretKey, enc)
    },
  }
}

export interface Dhkem {
  readonly group: DhGroup
  /**
   * Encap(pkR); `ephemeralSecretKey` only for tests that replay a known ephemeral key. `kdf` is
   * the implementation of the KEM's HKDF-SHA256 (default: noble), as for decap and decapWith.
   */
  encap(
    recipientPublicKey: Uint8Array,
    ephemeralSecretKey?: Uint8Array,
    kdf?: Kdf,
  ): { sharedSecret: Uint8Array; enc: Uint8Array }
  /**
   * Decap(enc, skR). `recipientPublicKey` is SerializePublicKey(pk(skR)), passed in so the
   * recipient does not pay a second scalar multiplication; a wrong value only makes Open fail.
   */
  decap(
    enc: Uint8Array,
    recipientSecretKey: Uint8Array,
    recipientPublicKey?: Uint8Array,
    kdf?: Kdf,
  ): Uint8Array
  /** Decap(enc, skR), skR held by `recipient`; the KEM context is enc || recipient.publicKey. */
  decapWith(enc: Uint8Array, recipient: DhRecipient, kdf?: Kdf): Uint8Array
  /**
   * Decap's second half, for a DH(skR, pkE) computed elsewhere (the gateway's ring key):
   * ExtractAndExpand(dh, enc || pkR). Does not wipe `dh`: its owner does.
   */
  decapShared(
    enc: Uint8Array,
    dh: Uint8Array,
    recipientPublicKey: Uint8Array,
    kdf?: Kdf,
  ): Uint8Array
}

/** DHKEM(Group, HKDF-SHA256), RFC 9180 §4.1. */
export function dhkem(group: DhGroup): Dhkem {
  const suiteId = kemSuiteId(group.kemId)

  function extractAndExpand(dh: Uint8Array, kemContext: Uint8Array, kdf: Kdf): Uint8Array {
    const eaePrk = labeledExtract(suiteId, EMPTY, 'eae_prk', dh, kdf)
    return labeledExpand(suiteId, eaePrk, 'shared_secret', kemContext, group.nSecret, kdf)
  }

  function decapWith(enc: Uint8Array, recipient: DhRecipient, kdf: Kdf = HKDF_SHA256): Uint8Array {
    if (recipient.kemId !== group.kemId) throw new HpkeError('ERR_HPKE_SUITE_UNSUPPORTED')
    const dh = recipient.dh(enc)
    const sharedSecret = extractAndExpand(dh, concatBytes(enc, recipient.publicKey), kdf)
    dh.fill(0)
    return sharedSecret
  }

  return {
    group,
    encap(recipientPublicKey, ephemeralSecretKey = group.randomSecretKey(), kdf = HKDF_SHA256) {
      group.checkPublicKey(recipientPublicKey)
      const dh = group.dh(ephemeralSecretKey, recipientPublicKey)
      const enc = group.publicKey(ephemeralSecretKey)
      const sharedSecret = extractAndExpand(dh, concatBytes(enc, recipientPublicKey), kdf)
      dh.fill(0)
      return { sharedSecret, enc }
    },
    decap(enc, recipientSecretKey, recipientPublicKey, kdf) {
      return decapWith(enc, nobleRecipient(group, recipientSecretKey, recipientPublicKey), kdf)
    },
    decapWith,
    decapShared(enc, dh, recipientPublicKey, kdf = HKDF_SHA256) {
      return extractAndExpand(dh, concatBytes(enc, recipientPublicKey), kdf)
    },
  }
}
