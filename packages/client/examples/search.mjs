// Usage: node search.mjs GATEWAY_URL [jwe|hpke] [P-256|X25519|X-Wing] [mbi|hicn] < identifier.txt
// Encrypts the identifier read from standard input, searches, and prints Patient/<id> for each
// match; an OperationOutcome's error code goes to standard error, with exit status 1.
import { readFileSync } from 'node:fs'
import {
  chooseKey,
  createJwksCache,
  encryptHicn,
  encryptMbi,
  patientSearchUrl,
} from '@sealed-search/client'

const [gateway, format = 'hpke', crv = 'X25519', kind = 'mbi'] = process.argv.slice(2)
const identifier = readFileSync(0, 'utf8').trim()
const encrypt = kind === 'hicn' ? encryptHicn : encryptMbi
// Honours Cache-Control max-age and revalidates with the ETag; one request for many callers.
const jwks = createJwksCache(`${gateway}/.well-known/jwks.json`)

async function search(retried = false) {
  const key = chooseKey(await jwks.get(), crv, { format })
  const token = await encrypt(identifier, key, { format, ttlSeconds: 300 })
  const res = await fetch(patientSearchUrl(gateway, token, kind))
  const body = await res.json()
  const code = body.issue?.[0]?.details?.coding?.[0]?.code
  if (code === 'ERR_TOKEN_KID_UNKNOWN' && !retried) {
    await jwks.refresh() // the key was rotated out: fetch the JWKS again and encrypt again
    return search(true)
  }
  return body
}

const body = await search()
if (body.resourceType !== 'Bundle') {
  console.error(body.issue?.[0]?.details?.coding?.[0]?.code ?? 'not a FHIR Bundle')
  process.exit(1)
}
for (const entry of body.entry ?? []) console.log(`Patient/${entry.resource.id}`)
