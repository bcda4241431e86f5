/**
 * The base of the gateway's own errors (as jose's JOSEError is of jose's): a stable `code` that
 * callers and tests switch on, and the original error as `cause`. The entry point tests this one
 * class to tell a reported failure (its message names the setting or file at fault and holds no
 * secret) from an unexpected one.
 */
export class SealedSearchError<Code extends string = string> extends Error {
  readonly code: Code

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'SealedSearchError'
  }
}

export function isSealedSearchError(error: unknown): error is SealedSearchError {
  return error instanceof SealedSearchError
}
