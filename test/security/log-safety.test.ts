/**
 * Log safety, end to end: a real gateway process (npm start, logging at trace level) serves a
 * corpus of good, bad and hostile requests; then every byte it wrote to stdout and stderr is
 * searched for seeded MBIs (in every spelling), token plaintexts and private key material.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { chooseKey, encryptMbiJwe, fetchJwks, patientSearchUrl } from '@sealed-search/client'
import { AMBIGUOUS_MBI, seededHistoricMbi, seededMbi } from '../../src/db/seed.js'
import { decodeForLog } from '../../src/log/mask.js'
import { tempDir } from '../support/keys.js'
import { childEnv, start, type Running } from '../support/process.js'
import { flipBit } from '../support/tokens.js'

const COUNT = 40
let running: Running | undefined
afterAll(async () => {
  await running?.stop()
})

function spellings(mbi: string): string[] {
  const dashed = `${mbi.slice(0, 4)}-${mbi.slice(4, 7)}-${mbi.slice(7)}`
  const spaced = dashed.replace(/-/g, ' ')
  return [mbi, mbi.toLowerCase(), dashed, dashed.toLowerCase(), spaced, spaced.toLowerCase()]
}

describe('nothing the gateway writes holds an identifier or a key', () => {
  it('after a corpus of searches, errors and hostile requests', async () => {
    const dir = await tempDir()
    running = start(
      'npm',
      ['start', '--silent'],
      childEnv({
        PORT: '0',
        KEYS_DIR: join(dir, 'keys'),
        DATA_DIR: join(dir, 'data'),
        SEED_COUNT: String(COUNT),
        LOG_LEVEL: 'trace',
      }),
    )
    const [, base] = await running.waitFor(/listening on (http:\/\/\S+)/)
    const jwks = await fetchJwks(`${base}/.well-known/jwks.json`)
    const mbis = [AMBIGUOUS_MBI as string]
    for (let i = 0; i < COUNT; i++) {
      mbis.push(seededMbi(i))
      const old = seededHistoricMbi(i)
      if (old) mbis.push(old)
    }
    const plaintexts: string[] = []
    const requests: { url: string; init?: RequestInit }[] = []
    for (const [n, mbi] of mbis.entries()) {
      const key = chooseKey(jwks)
      const claims = n % 2 === 0
      const token = await encryptMbiJwe(mbi, key, claims ? { ttlSeconds: 60 } : {})
      requests.push({ url: patientSearchUrl(base!, token) })
      if (n % 5 === 0) requests.push({ url: patientSearchUrl(base!, flipBit(token, 3, 1)) })
      const [variant] = spellings(mbi).slice(n % 4)
      // Mistakes and attacks that put the plaintext where a log could catch it.
      requests.push(
        { url: `${base}/v2/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-mbi|${variant}` },
        {
          url: `${base}/v2/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-mbi%7C${encodeURIComponent(variant!)}`,
        },
        { url: `${base}/v2/fhir/Patient/${mbi}` },
        { url: `${base}/v2/fhir/Patient?${variant}=1` },
        { url: `${base}/v2/fhir/metadata`, init: { headers: { 'X-Request-Id': variant! } } },
        { url: `${base}/v2/fhir/Patient?identifier=${variant}` },
      )
      if (n % 5 === 0) {
        // Other spellings (issue 10): percent-encoded characters, encoded spaces, the read path.
        const spaced = `${mbi.slice(0, 4)}%20${mbi.slice(4, 7)}+${mbi.slice(7)}`
        requests.push(
          {
            url: `${base}/v2/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-mbi%7C%31${mbi.slice(1)}`,
          },
          { url: `${base}/v2/fhir/Patient?identifier=${spaced}` },
          { url: `${base}/v2/fhir/Patient/%31${mbi.slice(1)}` },
          { url: `${base}/v2/fhir/metadata`, init: { headers: { 'X-Request-Id': `req-${mbi}` } } },
        )
      }
      plaintexts.push(claims ? JSON.stringify({ mbi }) : mbi)
    }
    let answered = 0
    for (const r of requests) {
      const res = await fetch(r.url, r.init)
      await res.arrayBuffer()
      expect(res.status).toBeLessThan(500)
      answered++
    }
    expect(answered).toBe(requests.length)
    await running.waitFor(new RegExp(`"status":\\d+.*\\n(.*\\n)*`), 2000)
    await new Promise((r) => setTimeout(r, 300))
    await running.stop()
    // What was written, and the same percent-decoded: no spelling survives either.
    const output = `${running.output()}\n${decodeForLog(running.output(), { query: true })}`

    // The process logged every request (access log) and every search (audit trail).
    expect((output.match(/"msg":"request"/g) ?? []).length).toBeGreaterThanOrEqual(requests.length)
    expect((output.match(/"log":"audit"/g) ?? []).length).toBeGreaterThanOrEqual(mbis.length)
    for (const mbi of mbis) for (const s of spellings(mbi)) expect(output).not.toContain(s)
    for (const p of plaintexts) expect(output).not.toContain(p)
    const keyDir = join(dir, 'keys')
    for (const file of (await readdir(keyDir)).filter((f) => f.endsWith('.private.jwk.json'))) {
      const jwk = JSON.parse(await readFile(join(keyDir, file), 'utf8')) as { d: string }
      expect(output).not.toContain(jwk.d)
    }
    expect(output).not.toMatch(/"d"\s*:/)
  })
})
