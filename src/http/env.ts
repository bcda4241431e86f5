import type { Sender } from '../crypto/binding.js'
import type { Logger } from '../log/logger.js'

/** What a request carries between middleware and handlers, for the access log. */
export interface SearchFacts {
  format?: string
  kid?: string
  results?: number
  outcome?: 'match' | 'no_match'
  error?: string
  /** Set by search routes: this request gets an audit record. */
  audited?: boolean
  /** For the audit record only (never the access log): what was returned, for whom. */
  beneIds?: string[]
  fingerprint?: string
}

export interface AppEnv {
  Variables: {
    requestId: string
    logger: Logger
    search: SearchFacts
    /** Who is asking: the client certificate's CN and fingerprint (mTLS), else the address. */
    client: string
    /** The metric label: a configured partner's name (allowlisted certificate), else `other`. */
    partner: string
    /** The verified client certificate's SHA-256, for sender-bound tokens; empty without one. */
    sender: Sender
  }
}
