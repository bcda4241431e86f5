import { createHmac, randomBytes } from 'node:crypto'
import pino, { type DestinationStream, type Logger } from 'pino'
import type { Mbi } from '../identifiers/mbi.js'
import { logDestination, type LogDestination } from './destination.js'
import { maskMbis } from './mask.js'

/** One audit record per search: who asked, with which key, what came back. Never the MBI. */
export interface AuditRecord {
  requestId: string
  client: string | undefined
  format: string | undefined
  kid: string | undefined
  outcome: string
  results: number
  beneIds: string[]
  /** HMAC-SHA256(server secret, identifier), full length hex: correlates, reveals nothing. */
  mbiFingerprint: string | undefined
}

export type FingerprintKind = 'mbi' | 'hicn' | 'mbi-hash'

export interface Audit {
  record(entry: AuditRecord): void
  /**
   * HMAC-SHA256 of the identifier, full length. An MBI is hashed as it is; other kinds get a
   * `kind:` prefix, so a HICN's fingerprint can never equal an MBI's.
   */
  fingerprint(value: Mbi | string, kind?: FingerprintKind): string
}

/**
 * The audit trail: a logger of its own (`"log":"audit"`), to its own destination. Its lines pass
 * through the same MBI mask as every other log line.
 */
export function createAudit(destination: DestinationStream, hmacKey?: Buffer): Audit {
  // Without a configured key, fingerprints correlate searches within this process only.
  const key = hmacKey ?? randomBytes(32)
  const logger: Logger = pino(
    {
      base: { log: 'audit' },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'event',
      hooks: { streamWrite: maskMbis },
    },
    destination,
  )
  return {
    record: (entry) => logger.info(entry, 'search'),
    fingerprint: (value, kind = 'mbi') =>
      createHmac('sha256', key)
        .update(kind === 'mbi' ? value : `${kind}:${value}`, 'utf8')
        .digest('hex'),
  }
}

/**
 * Where audit records go: `stdout`, `stderr`, or a file (appended, created with mode 0600);
 * gathered for up to `flushMs` and written together (see logDestination).
 */
export function auditDestination(target: string, flushMs = 0): LogDestination {
  return logDestination(target, { flushMs, mode: 0o600 })
}
