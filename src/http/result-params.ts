import type { Context } from 'hono'
import { FHIR_JSON } from '../fhir/systems.js'
import type { AppEnv } from './env.js'
import { HttpError } from './errors.js'

/**
 * Parameters that shape the answer, not the search (FHIR R4 http.html §3.1.0.1.10 and search
 * §3.1.1.5.8): taken on every Patient interaction, as HAPI FHIR takes them for BFD.
 */
export const RESULT_PARAMS = ['_format', '_pretty', '_summary', '_elements'] as const

const SUMMARY = new Set(['true', 'text', 'data', 'count', 'false'])

export interface ResultOptions {
  /** `_pretty=true`: indented JSON. */
  pretty: boolean
  /** `_summary=count`: the total only, as `_count=0`. */
  countOnly: boolean
}

/**
 * Reads the result parameters: `_pretty` and `_summary=count` are honoured; `_summary` `true`,
 * `text`, `data`, `false` and `_elements` are accepted and the whole resource is returned (a
 * valid answer: FHIR lets a server return more than a summary asked for). Another `_summary`
 * value is 400.
 */
export function resultOptions(params: ReadonlyMap<string, string>): ResultOptions {
  const summary = params.get('_summary')
  if (summary !== undefined && !SUMMARY.has(summary)) {
    throw new HttpError(
      400,
      'invalid',
      'ERR_PARAM_INVALID',
      '_summary is one of true, text, data, count, false',
    )
  }
  return { pretty: params.get('_pretty') === 'true', countOnly: summary === 'count' }
}

/** Answers a FHIR resource as JSON, never cached; indented when `_pretty=true`. */
export function fhirJson(c: Context<AppEnv>, resource: object, options: ResultOptions): Response {
  c.header('Content-Type', FHIR_JSON)
  c.header('Cache-Control', 'no-store')
  return c.body(JSON.stringify(resource, null, options.pretty ? 2 : undefined))
}
