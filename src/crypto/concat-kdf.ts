import { hash } from 'node:crypto'

/**
 * Writes OtherInfo for ECDH-ES (RFC 7518 §4.6.2) into `out` at `offset`: AlgorithmID ||
 * PartyUInfo || PartyVInfo || SuppPubInfo, each of the first three as Datalen || Data with a
 * 32-bit big-endian length (NIST SP 800-56A §5.8.1.2), SuppPubInfo as keydatalen in bits, 32 bits
 * big-endian, and SuppPrivInfo empty. Returns the offset after it.
 */
function writeOtherInfo(
  out: Buffer,
  offset: number,
  algorithmId: string,
  partyUInfo: Uint8Array,
  partyVInfo: Uint8Array,
  keyDataLenBits: number,
): number {
  let at = out.writeUInt32BE(algorithmId.length, offset)
  at += out.write(algorithmId, at, 'ascii')
  for (const field of [partyUInfo, partyVInfo]) {
    at = out.writeUInt32BE(field.length, at)
    out.set(field, at)
    at += field.length
  }
  return out.writeUInt32BE(keyDataLenBits, at)
}

function otherInfoLength(algorithmId: string, partyUInfo: Uint8Array, partyVInfo: Uint8Array) {
  return 4 + algorithmId.length + 4 + partyUInfo.length + 4 + partyVInfo.length + 4
}

/**
 * OtherInfo for ECDH-ES (RFC 7518 §4.6.2). AlgorithmID is the `enc` value for Direct Key
 * Agreement, the `alg` value for key wrap; SuppPubInfo is keydatalen in bits.
 */
export function otherInfo(
  algorithmId: string,
  partyUInfo: Uint8Array,
  partyVInfo: Uint8Array,
  keyDataLenBits: number,
): Buffer {
  const out = Buffer.alloc(otherInfoLength(algorithmId, partyUInfo, partyVInfo))
  writeOtherInfo(out, 0, algorithmId, partyUInfo, partyVInfo, keyDataLenBits)
  return out
}

const EMPTY = new Uint8Array(0)

/**
 * The single-step Concat KDF of NIST SP 800-56A §5.8.1 with SHA-256, as RFC 7518 §4.6.2 uses it:
 * K(i) = SHA-256(counter i, 32 bits big-endian || Z || OtherInfo), concatenated, cut to
 * keydatalen bits.
 */
export function concatKdf(
  z: Uint8Array,
  keyDataLenBits: number,
  algorithmId: string,
  partyUInfo: Uint8Array = EMPTY,
  partyVInfo: Uint8Array = EMPTY,
): Buffer {
  if (!Number.isInteger(keyDataLenBits) || keyDataLenBits <= 0 || keyDataLenBits % 8 !== 0) {
    throw new RangeError('keydatalen must be a positive multiple of 8 bits')
  }
  if (!/^[\x20-\x7e]+$/.test(algorithmId)) throw new RangeError('AlgorithmID must be ASCII')
  const keyBytes = keyDataLenBits / 8
  const rounds = Math.ceil(keyBytes / 32)
  // One buffer holds counter || Z || OtherInfo; each round rewrites only the counter.
  const input = Buffer.allocUnsafe(
    4 + z.length + otherInfoLength(algorithmId, partyUInfo, partyVInfo),
  )
  input.set(z, 4)
  writeOtherInfo(input, 4 + z.length, algorithmId, partyUInfo, partyVInfo, keyDataLenBits)
  const out = Buffer.allocUnsafe(rounds * 32)
  for (let i = 1; i <= rounds; i++) {
    input.writeUInt32BE(i, 0)
    hash('sha256', input, 'buffer').copy(out, (i - 1) * 32)
  }
  return out.subarray(0, keyBytes)
}
