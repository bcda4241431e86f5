import type { Logger } from '../log/logger.js'

/** What a request carries between middleware and handlers, for the access log. */
export interface SearchFacts {
  format?: string
  kid?: string
  results?: number
  outcome?: 'match' | 'no_match'
  error?: string
}

export interface AppEnv {
  Variables: {
    requestId: string
    logger: Logger
    search: SearchFacts
  }
}
