/**
 * A skip is never silent: when a test needs something this run lacks, one line on the console
 * says what (`skipped: … needs DATABASE_URL …`), whether the test passes or not. Returns whether
 * the need is met, for `describe.runIf`.
 */
export function needs(met: unknown, what: string): boolean {
  if (!met) process.stderr.write(`skipped: ${what}\n`)
  return Boolean(met)
}

/** The reason most skips give: PGlite serves one session and no LISTEN, no roles, no replicas. */
export const REAL_SERVER = 'needs DATABASE_URL (a real PostgreSQL server)'
