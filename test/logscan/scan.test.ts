/**
 * The log scanner on logs written here: tokens counted by key and the key's state, plaintext
 * identifiers found in every spelling and reported masked, each format told apart, gzip, and
 * hostile input (a 10 MB line, binary garbage, invalid UTF-8) read to its end without a crash.
 */
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { encryptMbi } from '@sealed-search/client'
import { seededHicn, seededMbi } from '../../src/db/seed.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { readManifest } from '../../src/keys/stores/manifest.js'
import {
  buildReport,
  emptyTotals,
  findTokens,
  lineFormat,
  ringFromEntries,
  ringFromJwks,
  scanSource,
  type ScanRing,
} from '../../src/logscan/index.js'
import { plantedSpellings } from '../../scripts/bench/scan-log.js'
import { twoKeyRing } from '../support/keys.js'

const SYSTEM = 'https://bluebutton.cms.gov/resources/identifier/mbi-encrypted'

let ring: KeyRing
let scanRing: ScanRing
const tokens: { jwe: string[]; hpke: string[] } = { jwe: [], hpke: [] }

beforeAll(async () => {
  const keys = await twoKeyRing()
  ring = keys.ring
  const manifest = await readManifest(keys.dir)
  // The X25519 key retired: its tokens are still decryptable (the private key exists).
  manifest.keys[1]!.state = 'retired'
  scanRing = ringFromEntries(keys.dir, manifest.keys)
  for (let i = 0; i < 6; i++) {
    const key = ring.keys[i % 2]!
    tokens.jwe.push(await encryptMbi(seededMbi(i), key.publicJwk))
    tokens.hpke.push(await encryptMbi(seededMbi(i), key.publicJwk, { format: 'hpke' }))
  }
})

/** Scans `text` as a file is read: in chunks of 64 KiB. */
async function scan(text: string | Buffer, scanWith: ScanRing = scanRing) {
  const bytes = Buffer.from(text)
  const chunks: Buffer[] = []
  for (let i = 0; i < bytes.length; i += 1 << 16) chunks.push(bytes.subarray(i, i + (1 << 16)))
  const totals = emptyTotals()
  await scanSource(totals, { name: 'test.log', stream: Readable.from(chunks) })
  return buildReport(totals, scanWith)
}

const nginx = (target: string) =>
  `192.0.2.7 - - [06/Dec/2026:13:45:12 +0000] "GET ${target} HTTP/1.1" 200 1532 "-" "curl/8.5.0"`

describe('tokens', () => {
  it('reads the key id and curve from JWE and HPKE headers', () => {
    const [p256, x25519] = ring.keys
    const jwe = findTokens(`?identifier=${SYSTEM}|${tokens.jwe[0]}`)
    expect(jwe).toMatchObject([
      { format: 'jwe', kid: p256!.kid, curve: 'P-256', quantum: 'classic' },
    ])
    const hpke = findTokens(`?identifier=${SYSTEM}|${tokens.hpke[1]}`)
    expect(hpke).toMatchObject([
      { format: 'hpke', hpkeKeyId: x25519!.publicJwk.hpke_key_id, curve: 'X25519' },
    ])
  })

  it('counts tokens per key with the state the ring gives it', async () => {
    const lines = [...tokens.jwe, ...tokens.hpke].map((t) =>
      nginx(`/v2/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM}|${t}`)}`),
    )
    const report = await scan(lines.join('\n') + '\n')
    expect(report.tokens).toBe(12)
    expect(report.decryptable).toBe(12)
    expect(report.classic).toBe(12)
    const [p256, x25519] = ring.keys
    expect(report.keys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kid: p256!.kid, state: 'active', tokens: 6, jwe: 3, hpke: 3 }),
        expect.objectContaining({ kid: x25519!.kid, state: 'retired', tokens: 6 }),
      ]),
    )
    expect(report.plaintext.count).toBe(0)
  })

  it('reports a key the ring does not list as unknown, and a destroyed one as not decryptable', async () => {
    const text = `${nginx(`/x?identifier=a|${tokens.jwe[0]}`)}\n${nginx(`/x?identifier=a|${tokens.hpke[1]}`)}\n`
    const [p256, x25519] = ring.keys
    const destroyed: ScanRing = {
      source: 'test',
      keys: [
        {
          kid: p256!.kid,
          hpkeKeyId: p256!.publicJwk.hpke_key_id!,
          curve: 'P-256',
          state: 'destroyed',
        },
      ],
    }
    const report = await scan(text, destroyed)
    expect(report).toMatchObject({ tokens: 2, decryptable: 0, destroyed: 1, unknownKey: 1 })
    expect(report.keys.find((k) => k.state === 'unknown')).toMatchObject({
      hpkeKeyId: x25519!.publicJwk.hpke_key_id,
      kid: null,
    })
  })

  it('knows only the published keys from a JWKS', async () => {
    const jwks = JSON.stringify({ keys: [ring.keys[0]!.publicJwk] })
    const report = await scan(
      `${nginx(`/x?identifier=a|${tokens.jwe[1]}`)}\n`,
      ringFromJwks('jwks', jwks),
    )
    expect(report).toMatchObject({ tokens: 1, decryptable: 0, unknownKey: 1 })
  })
})

describe('plaintext identifiers', () => {
  it('finds every spelling the gateway masks, by line, never repeating the value', async () => {
    const spellings = Array.from({ length: 9 }, (_, i) => plantedSpellings(i))
    const lines = spellings.map((s) => nginx(`/v2/fhir/Patient?identifier=${SYSTEM}%7C${s}`))
    const report = await scan(['{"msg":"clean"}', ...lines].join('\n'))
    expect(report.plaintext.count).toBe(9)
    expect(report.plaintext.listed.map((f) => f.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(report.plaintext.listed.filter((f) => f.kind === 'HICN')).toHaveLength(2)
    for (const f of report.plaintext.listed) expect(f.masked).toMatch(/^[A9 -]+$/)
  })

  it('finds an identifier anywhere in the line: referrer, user agent, JSON field', async () => {
    const mbi = seededMbi(3)
    const hicn = seededHicn(3)!
    const report = await scan(
      [
        `192.0.2.7 - - [06/Dec/2026:13:45:12 +0000] "GET / HTTP/1.1" 200 1 "https://x/?q=${mbi}" "ua"`,
        `{"requestId":"${hicn.toLowerCase()}","msg":"request"}`,
      ].join('\n'),
    )
    expect(report.plaintext.listed.map((f) => [f.line, f.kind])).toEqual([
      [1, 'MBI'],
      [2, 'HICN'],
    ])
  })

  it('finds nothing in ciphertext: thousands of real tokens scan clean', async () => {
    const lines: string[] = []
    for (let i = 0; i < 1500; i++) {
      const key = ring.keys[i % 2]!
      const token = await encryptMbi(seededMbi(i % 60), key.publicJwk, {
        format: i % 3 === 0 ? 'hpke' : 'jwe',
      })
      lines.push(`{"query":"?identifier=${SYSTEM}|${token}","msg":"request"}`)
    }
    const report = await scan(lines.join('\n'))
    expect(report.tokens).toBe(1500)
    expect(report.plaintext.count).toBe(0)
  })
})

describe('formats and input', () => {
  it('tells the formats apart', () => {
    expect(lineFormat('{"level":30}')).toBe('json')
    expect(lineFormat(nginx('/'))).toBe('combined')
    expect(lineFormat('192.0.2.7 - - [06/Dec/2026:13:45:12 +0000] "GET / HTTP/1.1" 200 12')).toBe(
      'common',
    )
    expect(
      lineFormat(
        'https 2026-12-06T13:45:12.123456Z app/lb/50dc 192.0.2.7:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET https://x:443/ HTTP/1.1" "curl" - -',
      ),
    ).toBe('alb')
    expect(lineFormat('garbage')).toBe('other')
  })

  it('reads gzip input as the plain text it holds', async () => {
    const text = `${nginx(`/x?identifier=a|${tokens.hpke[0]}`)}\n${nginx(`/x?identifier=a%7C${seededMbi(1)}`)}\n`
    const report = await scan(gzipSync(text))
    expect(report).toMatchObject({ lines: 2, tokens: 1 })
    expect(report.plaintext.listed).toMatchObject([{ line: 2, kind: 'MBI' }])
  })

  it('reports a truncated gzip stream as a problem, not a crash', async () => {
    const gz = gzipSync(nginx('/') + '\n')
    const report = await scan(gz.subarray(0, gz.length - 6))
    expect(report.problems).toEqual([expect.stringMatching(/not read to its end: not valid gzip/)])
  })

  it('reads a 10 MB line in pieces, says so, and still finds what is in it', async () => {
    const long = 'a'.repeat(10 * 2 ** 20)
    const text = `${nginx('/')}\n${long} ${seededMbi(2)} \n${nginx(`/x?identifier=a|${tokens.jwe[2]}`)}\n`
    const report = await scan(text)
    expect(report.lines).toBe(3)
    expect(report.tokens).toBe(1)
    expect(report.plaintext.listed).toMatchObject([{ line: 2, kind: 'MBI' }])
    expect(report.problems).toEqual([expect.stringMatching(/^test\.log:2: line longer than/)])
  })

  it('reads binary garbage and invalid UTF-8 without a crash', async () => {
    const garbage = Buffer.alloc(1 << 20)
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + (i >> 3)) & 0xff
    const invalid = Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0x28])
    const mbi = Buffer.from(` ${seededMbi(4)}\n`)
    const report = await scan(Buffer.concat([garbage, Buffer.from('\n'), invalid, mbi]))
    expect(report.problems).toEqual([])
    expect(report.plaintext.listed.at(-1)).toMatchObject({ kind: 'MBI' })
    expect(report.lines).toBeGreaterThan(1)
  })
})
