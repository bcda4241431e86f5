import { enforceBinding, type Sender } from '../crypto/binding.js'
import { enforcePq, kemOf } from '../crypto/pq-policy.js'
import type { IdentifierKind } from '../crypto/claims.js'
import { isTokenError } from '../crypto/errors.js'
import { enforceReplayWindow, NO_REPLAY_WINDOW } from '../crypto/replay.js'
import { openToken, type OpenedToken } from '../crypto/token.js'
import { SYSTEM } from '../fhir/systems.js'
import { OTHER_CLIENT } from '../metrics/index.js'
import { inSpan } from '../tracing/span.js'
import type { Hicn } from '../identifiers/hicn.js'
import type { Mbi } from '../identifiers/mbi.js'
import type { IdentifierCriterion } from './criterion.js'
import type { DeprecationNotice, SearchDeps, SearchFacts } from './deps.js'
import { SearchError } from './errors.js'

/** What to look up once a criterion is resolved: plaintext from here on, never logged. */
export type Lookup =
  { by: 'mbi'; mbi: Mbi } | { by: 'hicn'; hicn: Hicn } | { by: 'mbi-hash'; hash: string }

export interface Resolved {
  lookup: Lookup
  /** Set for a deprecated path: every answer, errors included, carries it. */
  deprecation?: DeprecationNotice
}

function notEnabled(what: string): SearchError {
  return new SearchError(
    'ERR_IDENTIFIER_SYSTEM_NOT_ENABLED',
    'not-supported',
    `search by ${what} is not enabled on this gateway; use ${SYSTEM.mbiEncrypted}`,
  )
}

/** Who sent the token: the client's name (for metrics) and its connection's certificate. */
interface From {
  client: string
  sender: Sender | undefined
}

/**
 * Opens an identifier token: one ring snapshot for the whole search (a reload in flight cannot
 * split a decision), metrics, the facts the logs need, then the sender-binding policy and the
 * replay window. `kind` is the identifier the token must hold.
 */
async function open<K extends IdentifierKind>(
  token: string,
  kind: K,
  deps: SearchDeps,
  facts: SearchFacts,
  from: From,
): Promise<OpenedToken<K>> {
  // Fail closed: a ring read from no host for longer than KEYS_FAIL_CLOSED_AFTER may be missing
  // a revocation, so it opens nothing until the store is read again.
  if (deps.keys.freshness?.().state === 'fail-closed') {
    throw new SearchError(
      'ERR_KEYS_RING_STALE',
      'transient',
      'the key ring cannot be read now, so no identifier is decrypted; retry later',
    )
  }
  const ring = deps.keys.current()
  const now = deps.clock()
  const { client, sender } = from
  let opened: OpenedToken<K>
  try {
    // The span holds the format and the kid once known, never the token or what it carries.
    opened = await inSpan(deps.tracer, 'token.open', {}, async (span) => {
      const result = await openToken(token, ring, now, kind, sender)
      span?.setAttributes({
        'sealed_search.token.format': result.format,
        'sealed_search.token.kid': result.kid,
      })
      return result
    })
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string') deps.metrics.tokenFailures.inc({ client, code })
    if (isTokenError(error) && error.senderBound) {
      deps.metrics.tokenBinding.inc({ client, binding: 'mismatch' })
    }
    throw error
  }
  deps.metrics.tokenBinding.inc({ client, binding: opened.binding })
  facts.format = opened.format
  facts.kid = opened.kid
  const kem = kemOf(opened, (kid) => ring.get(kid)?.crv)
  deps.metrics.keyUsed(opened.kid, opened.format, now, kem ?? 'unknown')
  const { mbi } = opened as Partial<OpenedToken<'mbi'>>
  const { hicn } = opened as Partial<OpenedToken<'hicn'>>
  if (mbi) facts.fingerprint = deps.audit.fingerprint(mbi)
  else if (hicn) facts.fingerprint = deps.audit.fingerprint(hicn, 'hicn')
  enforceBinding(opened.binding, sender, deps.tokenPolicy?.requireSenderBinding ?? false)
  enforcePq(kem, sender, deps.tokenPolicy?.requirePq ?? false)
  enforceReplayWindow(opened, deps.tokenPolicy ?? NO_REPLAY_WINDOW, now)
  return opened
}

/**
 * Resolves an identifier criterion to the plaintext to look up: decrypts a token, applies the
 * feature gates and the legacy path's deprecation policy. Writes what it learns into `facts` as
 * it goes, so a failure part-way still leaves the facts known so far. `client` is counted on the
 * legacy path (who still depends on it), whether or not the path is enabled, and with the
 * token's binding. `sender` is the connection's client certificate, for sender-bound tokens.
 */
export async function resolveCriterion(
  criterion: IdentifierCriterion,
  client: string | undefined,
  deps: SearchDeps,
  facts: SearchFacts,
  sender?: Sender,
): Promise<Resolved> {
  const from = { client: client ?? OTHER_CLIENT, sender }
  switch (criterion.system) {
    case 'mbi-encrypted': {
      const opened = await open(criterion.token, 'mbi', deps, facts, from)
      return { lookup: { by: 'mbi', mbi: opened.mbi } }
    }
    case 'hicn-encrypted': {
      if (!deps.features.hicnSearch) throw notEnabled('encrypted HICN')
      const opened = await open(criterion.token, 'hicn', deps, facts, from)
      return { lookup: { by: 'hicn', hicn: opened.hicn } }
    }
    case 'mbi-hash': {
      deps.metrics.legacyHashRequests.inc({ client: client ?? OTHER_CLIENT })
      const policy = deps.features.legacyHash
      if (!policy) throw notEnabled('mbi-hash')
      const deprecation = { deprecation: policy.deprecation, sunset: policy.sunset }
      facts.format = 'mbi-hash'
      facts.fingerprint = deps.audit.fingerprint(criterion.hash, 'mbi-hash')
      return { lookup: { by: 'mbi-hash', hash: criterion.hash }, deprecation }
    }
    case 'us-mbi':
      facts.format = 'plaintext'
      facts.fingerprint = deps.audit.fingerprint(criterion.mbi)
      return { lookup: { by: 'mbi', mbi: criterion.mbi } }
  }
}
