import { Writable } from 'node:stream'
import { createApp } from '../../src/http/app.js'
import { staticKeyRing, type KeyRing } from '../../src/keys/ring/keyring.js'
import { createLogger } from '../../src/log/logger.js'
import type { Sql } from '../../src/db/sql.js'

export const BASE = 'http://gateway.test'

/** A logger whose every line is kept in `lines`, so tests can read what would have been logged. */
export function capturingLogger() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })
  return { logger: createLogger('info', stream), lines }
}

export function testApp(ring: KeyRing, sql: Sql, clock?: () => Date) {
  const { logger, lines } = capturingLogger()
  const app = createApp({
    keys: staticKeyRing(ring),
    sql,
    logger,
    publicBaseUrl: BASE,
    ...(clock ? { clock } : {}),
  })
  return { app, lines, logger }
}

export const ENCRYPTED = 'https://bluebutton.cms.gov/resources/identifier/mbi-encrypted'

export function searchPath(token: string, bar = '%7C'): string {
  return `/v2/fhir/Patient?identifier=${ENCRYPTED}${bar}${token}`
}

export interface Outcome {
  resourceType: string
  issue: {
    severity: string
    code: string
    diagnostics: string
    details?: { coding: { code: string }[] }
  }[]
}

export function errorCode(outcome: Outcome): string | undefined {
  return outcome.issue[0]?.details?.coding[0]?.code
}
