import rfc from '../vectors/rfc9180-base-mode.json' with { type: 'json' }

/** One RFC 9180 Appendix A base-mode test vector (test/vectors/rfc9180-base-mode.json). */
export interface HpkeVector {
  section: string
  kem_id: number
  kdf_id: number
  aead_id: number
  info: string
  pkRm: string
  skRm: string
  enc: string
  shared_secret: string
  key: string
  base_nonce: string
  exporter_secret?: string
  encryptions: { seq: number; pt: string; aad: string; nonce: string; ct: string }[]
}

export const HPKE_VECTORS = rfc.vectors as HpkeVector[]
