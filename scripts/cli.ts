import { parseArgs, type ParseArgsConfig } from 'node:util'
import { SealedSearchError } from '../src/errors.js'

/** Thrown for a bad command line: the script prints one line naming its --help, and exits 2. */
export class UsageError extends SealedSearchError<'ERR_USAGE'> {
  constructor(message: string) {
    super('ERR_USAGE', message)
    this.name = 'UsageError'
  }
}

/** `-h` is `--help` for every command (before `--`, after which everything is an argument). */
function helpFlags(args: string[]): string[] {
  const end = args.indexOf('--')
  return args.map((a, i) => (a === '-h' && (end === -1 || i < end) ? '--help' : a))
}

/** A key id: an RFC 7638 thumbprint, SHA-256 in base64url (43 characters, may begin with `-`). */
const KID_SHAPE = /^[A-Za-z0-9_-]{43}$/

/**
 * Key ids are base64url and may begin with `-`, or with `--`. The scripts have no single-letter
 * options but -h, so an argument with one leading `-` (other than `-` itself, stdin) is always a
 * positional argument; one with two is a key id when it is not an option of the command and has
 * a key id's exact shape (no option name is 41 characters long). Either is moved behind `--`,
 * where the parser takes it as one.
 */
function positionalDashes(args: string[], optionNames: readonly string[]): string[] {
  const dashed = (a: string) =>
    (a.length > 1 && a.startsWith('-') && !a.startsWith('--')) ||
    (KID_SHAPE.test(a) && a.startsWith('--') && !optionNames.includes(a.slice(2)))
  const moved = args.filter(dashed)
  const end = args.indexOf('--')
  if (moved.length === 0 || end !== -1) return args
  return [...args.filter((a) => !dashed(a)), '--', ...moved]
}

/** Parses a command line strictly; every command takes --help (and -h). */
export function parse<T extends ParseArgsConfig['options']>(args: string[], options: T) {
  try {
    return parseArgs({
      args: positionalDashes(helpFlags(args), Object.keys(options ?? {})),
      options: { ...options, help: { type: 'boolean' } } as T & { help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/**
 * The `npm run <name> -- --help` (or `npx tsx scripts/<name>.ts --help`) that a usage error
 * points at, from the usage text.
 */
function helpCommand(usage: string): string {
  const npm = /^usage: (npm run \S+)/.exec(usage)
  if (npm) return `${npm[1]} -- --help`
  const tsx = /^usage: (npx tsx \S+)/.exec(usage)
  return tsx ? `${tsx[1]} --help` : '--help'
}

/**
 * Runs a script's main: a usage error is one line and exit 2, any other failure one line and
 * exit 1, never a stack trace.
 */
export function run(main: () => Promise<void>, usage: string): void {
  main().catch((error: unknown) => {
    const message = (error as { message?: string }).message ?? String(error)
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${message} (usage: ${helpCommand(usage)})\n`)
      process.exit(2)
    }
    process.stderr.write(`error: ${message}\n`)
    process.exit(1)
  })
}
