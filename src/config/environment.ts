/** The environment variables as the configuration reads them. */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * The process environment: the one place in the gateway and its scripts that touches
 * `process.env`. Everything else gets the configuration, or passes this on to a child process.
 */
export function processEnvironment(): Env {
  return process.env
}
