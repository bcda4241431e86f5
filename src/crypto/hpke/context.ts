import { concatBytes } from '@noble/hashes/utils.js'
import type { Aead } from './aead.js'
import { HpkeError } from './errors.js'
import { HKDF_SHA256, labeledExpand, labeledExtract, type Kdf } from './kdf.js'
import { i2osp, MODE_BASE } from './suite.js'

const EMPTY = new Uint8Array(0)

export interface KeySchedule {
  key: Uint8Array
  baseNonce: Uint8Array
  exporterSecret: Uint8Array
}

/** What an HpkeContext needs: the schedule without exporter_secret. */
export type ContextKeys = Pick<KeySchedule, 'key' | 'baseNonce'>

/**
 * psk_id_hash of mode_base: LabeledExtract("", "psk_id_hash", default_psk_id), a public constant
 * of the suite and the KDF, so it is computed once per suite id and KDF, not per token.
 */
const pskIdHashes = new WeakMap<Kdf, Map<string, Uint8Array>>()

function basePskIdHash(suiteId: Uint8Array, kdf: Kdf): Uint8Array {
  let bySuite = pskIdHashes.get(kdf)
  if (!bySuite) pskIdHashes.set(kdf, (bySuite = new Map()))
  const id = suiteId.join(',')
  let hash = bySuite.get(id)
  if (!hash) bySuite.set(id, (hash = labeledExtract(suiteId, EMPTY, 'psk_id_hash', EMPTY, kdf)))
  return hash
}

function schedule(
  suiteId: Uint8Array,
  aead: Aead,
  sharedSecret: Uint8Array,
  info: Uint8Array,
  kdf: Kdf,
  withExporter: boolean,
): ContextKeys & { exporterSecret?: Uint8Array } {
  const pskIdHash = basePskIdHash(suiteId, kdf)
  const infoHash = labeledExtract(suiteId, EMPTY, 'info_hash', info, kdf)
  const context = concatBytes(Uint8Array.of(MODE_BASE), pskIdHash, infoHash)
  const secret = labeledExtract(suiteId, sharedSecret, 'secret', EMPTY, kdf)
  const keys: ContextKeys & { exporterSecret?: Uint8Array } = {
    key: labeledExpand(suiteId, secret, 'key', context, aead.nK, kdf),
    baseNonce: labeledExpand(suiteId, secret, 'base_nonce', context, aead.nN, kdf),
  }
  if (withExporter) {
    keys.exporterSecret = labeledExpand(suiteId, secret, 'exp', context, kdf.nH, kdf)
  }
  secret.fill(0)
  return keys
}

/**
 * RFC 9180 §5.1 KeySchedule for mode_base: default (empty) psk and psk_id, so
 * VerifyPSKInputs passes trivially.
 */
export function keySchedule(
  suiteId: Uint8Array,
  aead: Aead,
  sharedSecret: Uint8Array,
  info: Uint8Array,
  kdf: Kdf = HKDF_SHA256,
): KeySchedule {
  const { key, baseNonce, exporterSecret } = schedule(suiteId, aead, sharedSecret, info, kdf, true)
  return { key, baseNonce, exporterSecret: exporterSecret! }
}

/**
 * KeySchedule without its last LabeledExpand: exporter_secret only serves Export (RFC 9180
 * §5.3), which is not implemented, so setting up a context does not derive it.
 */
export function contextKeys(
  suiteId: Uint8Array,
  aead: Aead,
  sharedSecret: Uint8Array,
  info: Uint8Array,
  kdf: Kdf = HKDF_SHA256,
): ContextKeys {
  return schedule(suiteId, aead, sharedSecret, info, kdf, false)
}

/** RFC 9180 §5.2: nonce = base_nonce XOR I2OSP(seq, Nn). */
export function computeNonce(baseNonce: Uint8Array, seq: number): Uint8Array {
  const seqBytes = i2osp(seq, baseNonce.length)
  return baseNonce.map((b, i) => b ^ seqBytes[i]!)
}

/**
 * An encryption context (RFC 9180 §5.2). Seal and Open advance the sequence number only on
 * success. Sequence numbers stop at 2^53 - 1, far below the 2^96 - 1 the spec allows.
 */
export class HpkeContext {
  readonly #aead: Aead
  readonly #key: Uint8Array
  readonly #baseNonce: Uint8Array
  #seq = 0

  constructor(aead: Aead, schedule: ContextKeys) {
    this.#aead = aead
    this.#key = schedule.key
    this.#baseNonce = schedule.baseNonce
  }

  get seq(): number {
    return this.#seq
  }

  #nextNonce(): Uint8Array {
    if (this.#seq >= Number.MAX_SAFE_INTEGER) throw new HpkeError('ERR_HPKE_MESSAGE_LIMIT')
    return computeNonce(this.#baseNonce, this.#seq)
  }

  async seal(aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
    const ciphertext = await this.#aead.seal(this.#key, this.#nextNonce(), aad, plaintext)
    this.#seq += 1
    return ciphertext
  }

  async open(aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    const plaintext = await this.#aead.open(this.#key, this.#nextNonce(), aad, ciphertext)
    this.#seq += 1
    return plaintext
  }
}
