import pino, { type DestinationStream, type Logger } from 'pino'
import type { LogLevel } from '../config/index.js'
import { maskMbis } from './mask.js'

export type { Logger }

/**
 * JSON logs (pino). Every serialised line passes through the MBI mask on its way out, so no
 * code path can log a plaintext identifier by accident, whatever field it lands in.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'sealed-search', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: maskMbis },
      redact: { paths: ['*.d', '*.privateKey', '*.passphrase', '*.pin'], censor: '[redacted]' },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  )
}
