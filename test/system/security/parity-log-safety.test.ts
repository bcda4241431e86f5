/**
 * Log safety of the FHIR-parity and migration paths, end to end, as test/security/log-safety.test.ts does
 * for the core search: a real gateway process (npm start, trace level, the legacy hash and HICN
 * searches on) serves a corpus of POST searches by plaintext MBI, reads, _id and paged searches,
 * legacy-hash and encrypted-HICN searches, and mistakes that put a plaintext identifier where a
 * log could catch it; then every byte that the gateway and the legacy-hash script wrote is searched
 * for seeded MBIs and HICNs (in every spelling) and for the pepper.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CompactEncrypt, importJWK } from 'jose'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { chooseKey, encryptMbiJwe, fetchJwks, type GatewayJwk } from '@sealed-search/client'
import {
  AMBIGUOUS_HICN,
  AMBIGUOUS_MBI,
  seededBeneId,
  seededHicn,
  seededHistoricMbi,
  seededMbi,
} from '../../../src/db/seed.js'
import { legacyIdentifierHash } from '../../../src/identifiers/legacy-hash.js'
import { tempDir } from '../../support/keys.js'
import { HICN_ENCRYPTED, MBI_HASH, US_MBI } from '../../support/parity.js'
import { childEnv, start, type Running } from '../../support/process.js'
import { scriptArgs } from '../../support/scripts.js'

// Three script runs and a gateway process: generous limits for a loaded machine; no time is asserted.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 })

const COUNT = 24
const PEPPER_UTF8 = 'a-secret-pepper-for-this-test-only'
const PEPPER_HEX = Buffer.from(PEPPER_UTF8).toString('hex')
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' }
const ENCRYPTED = 'https://bluebutton.cms.gov/resources/identifier/mbi-encrypted'
const run = promisify(execFile)

let running: Running | undefined
afterAll(async () => {
  await running?.stop()
})

function spellings(id: string): string[] {
  const dashed =
    id.length === 11 && /^\d[A-Z]/.test(id)
      ? `${id.slice(0, 4)}-${id.slice(4, 7)}-${id.slice(7)}`
      : `${id.slice(0, 3)}-${id.slice(3, 5)}-${id.slice(5)}`
  return [id, id.toLowerCase(), dashed, dashed.toLowerCase()]
}

async function encryptRaw(plaintext: string, jwk: GatewayJwk): Promise<string> {
  const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, 'ECDH-ES')
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: jwk.kid! })
    .encrypt(key)
}

describe('nothing the gateway writes on the parity and migration paths holds an identifier', () => {
  it('after a corpus of POST, read, paged, hash and HICN searches and mistakes', async () => {
    const dir = await tempDir()
    const env = childEnv({ DATA_DIR: join(dir, 'data'), KEYS_DIR: join(dir, 'keys') })
    const script = async (name: string, args: string[], extra: Record<string, string> = {}) => {
      const r = await run(...scriptArgs(name, args), { env: { ...env, ...extra } })
      return r.stdout + r.stderr
    }
    const pepperFile = join(dir, 'pepper.hex')
    await writeFile(pepperFile, PEPPER_HEX, { mode: 0o600 })
    let scriptOutput = await script('seed', ['--count', String(COUNT)])
    scriptOutput += await script('legacy-hash', ['--iterations', '50', '--pepper-file', pepperFile])
    scriptOutput += await script('legacy-hash', ['--iterations', '50'], {
      LEGACY_HASH_PEPPER: PEPPER_HEX,
    })

    running = start('npm', ['start', '--silent'], {
      ...env,
      PORT: '0',
      LOG_LEVEL: 'trace',
      LEGACY_HASH_ENABLED: 'true',
      LEGACY_HASH_SUNSET: '2027-06-30',
      HICN_SEARCH_ENABLED: 'true',
    })
    const [, base] = await running.waitFor(/listening on (http:\/\/\S+)/)
    const jwk = chooseKey(await fetchJwks(`${base}/.well-known/jwks.json`))

    const mbis: string[] = [AMBIGUOUS_MBI]
    const hicns: string[] = [AMBIGUOUS_HICN]
    for (let i = 0; i < COUNT; i++) {
      mbis.push(seededMbi(i))
      const old = seededHistoricMbi(i)
      if (old) mbis.push(old)
      const hicn = seededHicn(i)
      if (hicn) hicns.push(hicn)
    }
    const requests: { url: string; init?: RequestInit; ok?: boolean }[] = []
    const search = `${base}/v2/fhir/Patient/_search`
    for (const [n, mbi] of mbis.entries()) {
      const [variant] = spellings(mbi).slice(n % 4)
      const plain = `${US_MBI}|${variant}`
      const hash = await legacyIdentifierHash(mbi, Buffer.from(PEPPER_UTF8), 50)
      const token = await encryptMbiJwe(mbi, jwk)
      requests.push(
        // The plaintext where it belongs: a form body.
        { url: search, init: { method: 'POST', headers: FORM, body: `identifier=${plain}` } },
        {
          url: search,
          init: { method: 'POST', headers: FORM, body: `identifier=${plain}&_count=0` },
        },
        {
          url: search,
          init: { method: 'POST', headers: FORM, body: `identifier=${plain}&startIndex=7` },
        },
        // ... and where it does not.
        {
          url: `${search}?identifier=${plain}`,
          init: { method: 'POST', headers: FORM, body: '_id=1' },
        },
        {
          url: search,
          init: { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: plain },
        },
        {
          url: search,
          init: {
            method: 'POST',
            headers: FORM,
            body: `identifier=${plain}&x=${'y'.repeat(9000)}`,
          },
        },
        {
          url: search,
          init: { method: 'POST', headers: FORM, body: `identifier=${plain.slice(0, -1)}Z` },
        },
        { url: `${search}?identifier=${plain}` },
        { url: `${base}/v2/fhir/Patient/${variant}` },
        { url: `${base}/v2/fhir/Patient?_id=${variant}` },
        { url: `${base}/v2/fhir/Patient?identifier=${MBI_HASH}%7C${variant}` },
        // The legacy hash, the encrypted MBI by POST, paging.
        { url: `${base}/v2/fhir/Patient?identifier=${MBI_HASH}%7C${hash}&_count=1` },
        {
          url: search,
          init: { method: 'POST', headers: FORM, body: `identifier=${ENCRYPTED}|${token}` },
        },
        { url: `${base}/v2/fhir/Patient?identifier=${ENCRYPTED}%7C${token}&startIndex=3` },
      )
    }
    for (const [n, hicn] of hicns.entries()) {
      const [variant] = spellings(hicn).slice(n % 4)
      const token = await encryptRaw(n % 2 ? hicn : JSON.stringify({ hicn }), jwk)
      requests.push(
        { url: `${base}/v2/fhir/Patient?identifier=${HICN_ENCRYPTED}%7C${token}` },
        {
          url: search,
          init: { method: 'POST', headers: FORM, body: `identifier=${HICN_ENCRYPTED}|${token}` },
        },
        {
          url: `${base}/v2/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-medicare|${variant}`,
        },
        { url: `${base}/v2/fhir/Patient?identifier=${HICN_ENCRYPTED}%7C${variant}` },
        { url: `${base}/v2/fhir/Patient/${variant}` },
      )
    }
    requests.push({ url: `${base}/v2/fhir/Patient/42` })
    for (let i = 0; i < COUNT; i += 3) {
      requests.push(
        { url: `${base}/v2/fhir/Patient/${seededBeneId(i)}`, ok: true },
        { url: `${base}/v2/fhir/Patient?_id=${seededBeneId(i)}&_count=0`, ok: true },
      )
    }

    const statuses = new Map<number, number>()
    for (const r of requests) {
      const res = await fetch(r.url, r.init)
      await res.arrayBuffer()
      expect(res.status).toBeLessThan(500)
      if (r.ok) expect(res.status).toBe(200)
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    }
    // The corpus exercised matches, misses, and every refusal of these paths.
    for (const status of [200, 400, 404, 405, 409, 413, 415]) {
      expect(statuses.get(status), `status ${status}`).toBeGreaterThan(0)
    }
    await new Promise((r) => setTimeout(r, 300))
    await running.stop()
    const output = running.output()

    expect((output.match(/"msg":"request"/g) ?? []).length).toBeGreaterThanOrEqual(requests.length)
    expect((output.match(/"log":"audit"/g) ?? []).length).toBeGreaterThanOrEqual(mbis.length)
    // Plaintext did reach the logs' way (mistaken URLs) and was masked there.
    expect(output).toContain('***MBI***')
    expect(output).toContain('***HICN***')
    for (const text of [output, scriptOutput]) {
      for (const id of [...mbis, ...hicns])
        for (const s of spellings(id)) expect(text).not.toContain(s)
      expect(text).not.toContain(PEPPER_HEX)
      expect(text).not.toContain(PEPPER_UTF8)
    }
  })
})
