import { parseArgs, type ParseArgsConfig } from 'node:util'
import { SealedSearchError } from '../src/errors.js'

/** Thrown for a bad command line: the script prints the message and its usage, and exits 2. */
export class UsageError extends SealedSearchError<'ERR_USAGE'> {
  constructor(message: string) {
    super('ERR_USAGE', message)
    this.name = 'UsageError'
  }
}

/**
 * Key ids are base64url and may begin with `-`. The scripts have no single-letter options, so an
 * argument with one leading `-` (other than `-` itself, stdin) is always a positional argument:
 * it is moved behind `--`, where the parser takes it as one.
 */
function positionalDashes(args: string[]): string[] {
  const dashed = (a: string) => a.length > 1 && a.startsWith('-') && !a.startsWith('--')
  const moved = args.filter(dashed)
  const end = args.indexOf('--')
  if (moved.length === 0 || end !== -1) return args
  return [...args.filter((a) => !dashed(a)), '--', ...moved]
}

export function parse<T extends ParseArgsConfig['options']>(args: string[], options: T) {
  try {
    return parseArgs({
      args: positionalDashes(args),
      options,
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/** Runs a script's main: usage errors exit 2, other failures 1, never with a stack trace. */
export function run(main: () => Promise<void>, usage: string): void {
  main().catch((error: unknown) => {
    const e = error as { message?: string; code?: string }
    process.stderr.write(`error: ${e.message ?? String(error)}\n`)
    if (error instanceof UsageError) {
      process.stderr.write(`\n${usage}\n`)
      process.exit(2)
    }
    process.exit(1)
  })
}
