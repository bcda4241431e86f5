import { SealedSearchError } from '../errors.js'

/** A bad setting: stops start-up. The message begins with the variable's name, never its secret. */
export class ConfigError extends SealedSearchError<'ERR_CONFIG'> {
  constructor(
    readonly variable: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_CONFIG', `${variable}: ${message}`, options)
    this.name = 'ConfigError'
  }
}

/**
 * Thrown by a parser for a value it refuses. The reader turns it into a ConfigError naming the
 * variable; `echo` asks it to quote the value, which it never does for a secret.
 */
export class InvalidValue extends Error {
  constructor(
    message: string,
    readonly echo = false,
  ) {
    super(message)
    this.name = 'InvalidValue'
  }
}
