import { encryptHicn, encryptMbi, type EncryptMbiOptions } from './encrypt.js'
import type { JwksCache } from './jwks-cache.js'
import type { IdentifierKind } from './payload.js'
import { patientSearchUrl } from './url.js'

/** The gateway's answer to a token whose key it does not accept (unknown, retired, revoked). */
export const KID_UNKNOWN = 'ERR_TOKEN_KID_UNKNOWN'

export interface SearchOptions extends EncryptMbiOptions {
  /** The curve of the key to encrypt to (default: the JWKS's first usable key). */
  crv?: 'P-256' | 'X25519'
  /** `mbi` (default) or `hicn`. */
  kind?: IdentifierKind
  /** The fetch to use (default: the global one). */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>
  /** Extra request options for the search (headers, signal, an mTLS dispatcher...). */
  init?: RequestInit
}

export interface SearchResult {
  status: number
  /** The FHIR resource the gateway answered: a searchset Bundle or an OperationOutcome. */
  body: { resourceType?: string; issue?: { details?: { coding?: { code?: string }[] } }[] }
  /** The kid the answered token was encrypted to. */
  kid: string
  /** True when the first token's key was refused and the search was made again. */
  retried: boolean
}

/** The error code of an OperationOutcome, if the body is one. */
export function outcomeCode(body: SearchResult['body']): string | undefined {
  return body.issue?.[0]?.details?.coding?.[0]?.code
}

/**
 * Encrypts the identifier to a key from the cache and searches. When the gateway answers
 * ERR_TOKEN_KID_UNKNOWN (the key was rotated out or revoked since the JWKS was cached), the JWKS
 * is fetched again (rate-limited by the cache) and the search made once more with another
 * published key of the curve: one retry, never more.
 */
export async function searchPatients(
  gateway: string,
  identifier: string,
  jwks: JwksCache,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const { crv, kind = 'mbi', fetch: doFetch = globalThis.fetch, init, ...encryptOptions } = options
  const encrypt = kind === 'hicn' ? encryptHicn : encryptMbi
  const format = encryptOptions.format
  const attempt = async (exclude?: string) => {
    const key = await jwks.key(crv, { format, exclude })
    const token = await encrypt(identifier, key, encryptOptions)
    const res = await doFetch(patientSearchUrl(gateway, token, kind), init)
    const body = (await res.json()) as SearchResult['body']
    return { status: res.status, body, kid: key.kid ?? '' }
  }
  const first = await attempt()
  if (outcomeCode(first.body) !== KID_UNKNOWN) return { ...first, retried: false }
  await jwks.refresh()
  return { ...(await attempt(first.kid)), retried: true }
}
