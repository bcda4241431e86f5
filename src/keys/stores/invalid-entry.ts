/**
 * A stored entry that cannot be part of the ring (malformed, a time that does not parse, a kid or
 * HPKE key id listed twice): left out, named, and never the reason a revocation is lost. Its kid
 * is accepted nowhere; `keys revoke` can still mark it revoked.
 */
export interface InvalidEntry {
  kid?: string
  /** Its HPKE key id, when it has a well-formed one: never given to another key. */
  hpkeKeyId?: number
  /** What is wrong, naming where (manifest index or table row), never any key material. */
  why: string
  /** The stored entry says revoked. */
  revoked: boolean
  /** Set by a revocation: the store marks the entry revoked at this time. */
  revokedAt?: string
  /** The entry as stored (the directory writes it back unchanged). */
  raw?: unknown
}
