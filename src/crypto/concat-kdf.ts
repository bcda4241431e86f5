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
 * OtherInfo without party info, by AlgorithmID and keydatalen: what nearly every token uses
 * (JWE's allowlists give four such strings), so each is written and checked once per process.
 */
const plainOtherInfo = new Map<string, Buffer>()
const PLAIN_OTHER_INFO_CACHED = 16

function checkedOtherInfo(
  algorithmId: string,
  partyUInfo: Uint8Array,
  partyVInfo: Uint8Array,
  keyDataLenBits: number,
): Buffer {
  const plain = partyUInfo.length === 0 && partyVInfo.length === 0
  const id = `${keyDataLenBits}/${algorithmId}`
  const cached = plain ? plainOtherInfo.get(id) : undefined
  if (cached) return cached
  if (!Number.isInteger(keyDataLenBits) || keyDataLenBits <= 0 || keyDataLenBits % 8 !== 0) {
    throw new RangeError('keydatalen must be a positive multiple of 8 bits')
  }
  if (!/^[\x20-\x7e]+$/.test(algorithmId)) throw new RangeError('AlgorithmID must be ASCII')
  const info = otherInfo(algorithmId, partyUInfo, partyVInfo, keyDataLenBits)
  if (plain && plainOtherInfo.size < PLAIN_OTHER_INFO_CACHED) plainOtherInfo.set(id, info)
  return info
}

/**
 * The single-step Concat KDF of NIST SP 800-56A §5.8.1 with SHA-256, as RFC 7518 §4.6.2 uses it:
 * K(i) = SHA-256(counter i, 32 bits big-endian || Z || OtherInfo), concatenated, cut to
 * keydatalen bits. The copy of Z in the hash input is wiped before returning.
 */
export function concatKdf(
  z: Uint8Array,
  keyDataLenBits: number,
  algorithmId: string,
  partyUInfo: Uint8Array = EMPTY,
  partyVInfo: Uint8Array = EMPTY,
): Buffer {
  const info = checkedOtherInfo(algorithmId, partyUInfo, partyVInfo, keyDataLenBits)
  const keyBytes = keyDataLenBits / 8
  const rounds = Math.ceil(keyBytes / 32)
  // One buffer holds counter || Z || OtherInfo; each round rewrites only the counter.
  const input = Buffer.allocUnsafe(4 + z.length + info.length)
  input.set(z, 4)
  info.copy(input, 4 + z.length)
  try {
    if (rounds === 1) {
      input.writeUInt32BE(1, 0)
      return hash('sha256', input, 'buffer').subarray(0, keyBytes)
    }
    const out = Buffer.allocUnsafe(rounds * 32)
    for (let i = 1; i <= rounds; i++) {
      input.writeUInt32BE(i, 0)
      hash('sha256', input, 'buffer').copy(out, (i - 1) * 32)
    }
    return out.subarray(0, keyBytes)
  } finally {
    input.fill(0, 4, 4 + z.length)
  }
}
