/**
 * A generated access log for bench:scan: the four formats the scanner reads, in turn, with a
 * known number of identifier tokens (taken from a pool of real ones) and plaintext identifiers
 * planted at known lines in every spelling the gateway masks.
 */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { syntheticHicn } from '../../src/identifiers/hicn.js'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'

const SYSTEM = 'https://bluebutton.cms.gov/resources/identifier/mbi-encrypted'

export interface GeneratedLog {
  bytes: number
  lines: number
  tokens: number
  /** The line numbers (1-based) where a plaintext identifier was planted. */
  planted: number[]
}

/** Every spelling the mask covers: plain, lower case, dashed, spaced, percent-encoded, HICN. */
export function plantedSpellings(i: number): string {
  const mbi = syntheticMbi(1000 + i)
  const dashed = `${mbi.slice(0, 4)}-${mbi.slice(4, 7)}-${mbi.slice(7)}`
  const hicn = syntheticHicn(1000 + i)
  const spellings = [
    mbi,
    mbi.toLowerCase(),
    dashed,
    dashed.replace(/-/g, '+'),
    dashed.replace(/-/g, '%20'),
    [...mbi].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''),
    `%3${mbi[0]}${mbi.slice(1)}`,
    hicn,
    `${hicn.slice(0, 3)}-${hicn.slice(3, 5)}-${hicn.slice(5)}`,
  ]
  return spellings[i % spellings.length]!
}

function request(target: string, n: number): string[] {
  const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
  const date = '06/Dec/2026:13:45:12 +0000'
  const iso = '2026-12-06T13:45:12.123456Z'
  const enc = target.replace(/\|/g, '%7C').replace(/:\/\//, '%3A%2F%2F')
  const id = randomUUID()
  switch (n % 4) {
    case 0:
      return [
        `{"level":30,"time":1796996712123,"pid":4242,"hostname":"gw-1","requestId":"${id}","method":"GET","path":"/v2/fhir/Patient","query":"${target.slice(16)}","status":200,"durationMs":3.21,"client":"partner-a","search":{"format":"jwe","results":1},"msg":"request"}`,
      ]
    case 1:
      return [`${ip} - - [${date}] "GET ${enc} HTTP/1.1" 200 1532 "-" "python-requests/2.31.0"`]
    case 2:
      return [
        `${ip}:5${n % 10000} - - [${date}] "GET ${enc} HTTP/1.1" 200 1532 "" "" 5${n % 10000} 123 "partners" "gateways" "gw1" 0 0 1 3 3 ---- 1 1 1 1 0 0 0 "" ""`,
      ]
    default:
      return [
        `https ${iso} app/partners/50dc6c495c0c9188 ${ip}:2817 10.0.0.1:8080 0.000 0.003 0.000 200 200 34 1532 "GET https://fhir.example.org:443${enc} HTTP/1.1" "curl/8.5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gw/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "fhir.example.org" "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 ${iso} "forward" "-" "-" "10.0.0.1:8080" "200" "-" "-"`,
      ]
  }
}

/**
 * Writes about `bytes` of log to `path`: most lines a search with a token from `pool`, one in
 * eight a request without one, one in `plantEvery` a search with a planted plaintext identifier.
 */
export async function writeScanLog(
  path: string,
  bytes: number,
  pool: readonly string[],
  // One in 20,000 lines, and at least 20 in a small log (lines are about 550 bytes).
  plantEvery = Math.max(100, Math.min(20_000, Math.floor(bytes / 550 / 20))),
): Promise<GeneratedLog> {
  const out = createWriteStream(path, { highWaterMark: 1 << 22 })
  const result: GeneratedLog = { bytes: 0, lines: 0, tokens: 0, planted: [] }
  let batch: string[] = []
  let batchBytes = 0
  for (let n = 0; result.bytes + batchBytes < bytes; n++) {
    const lineNo = result.lines + batch.length + 1
    let target: string
    if (n % plantEvery === plantEvery - 1) {
      target = `/v2/fhir/Patient?identifier=${SYSTEM}|${plantedSpellings(result.planted.length)}`
      result.planted.push(lineNo)
    } else if (n % 8 === 7) {
      target = `/v2/fhir/Patient?_id=-${10_000_000 + n}&_count=10`
    } else {
      target = `/v2/fhir/Patient?identifier=${SYSTEM}|${pool[n % pool.length]!}`
      result.tokens++
    }
    for (const line of request(target, n)) {
      batch.push(line)
      batchBytes += line.length + 1
    }
    if (batchBytes >= 1 << 22) {
      result.lines += batch.length
      result.bytes += batchBytes
      if (!out.write(batch.join('\n') + '\n')) await once(out, 'drain')
      batch = []
      batchBytes = 0
    }
  }
  result.lines += batch.length
  result.bytes += batchBytes
  out.end(batch.length ? batch.join('\n') + '\n' : '')
  await once(out, 'finish')
  return result
}
