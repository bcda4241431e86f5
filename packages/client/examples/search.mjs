// Usage: node search.mjs GATEWAY_URL [jwe|hpke] [P-256|X25519|X-Wing] [mbi|hicn] < identifier.txt
// Encrypts the identifier read from standard input, searches, and prints Patient/<id> for each
// match; an OperationOutcome's error code goes to standard error, with exit status 1.
import { readFileSync } from 'node:fs'
import { createJwksCache, searchPatients } from '@sealed-search/client'

const [gateway, format = 'hpke', crv = 'X25519', kind = 'mbi'] = process.argv.slice(2)
const identifier = readFileSync(0, 'utf8').trim()
// Honours Cache-Control max-age and revalidates with the ETag; one request for many callers.
const jwks = createJwksCache(`${gateway}/.well-known/jwks.json`)

// Encrypts to a key of the curve (fetching the JWKS again if the cached one has none) and
// searches; on ERR_TOKEN_KID_UNKNOWN (the key was rotated out or revoked) it fetches the JWKS
// again, at most once per 10 s for the whole cache, and retries once with another key.
async function search() {
  const { body } = await searchPatients(gateway, identifier, jwks, {
    crv,
    format,
    kind,
    ttlSeconds: 300,
  })
  return body
}

const body = await search()
if (body.resourceType !== 'Bundle') {
  console.error(body.issue?.[0]?.details?.coding?.[0]?.code ?? 'not a FHIR Bundle')
  process.exit(1)
}
for (const entry of body.entry ?? []) console.log(`Patient/${entry.resource.id}`)
