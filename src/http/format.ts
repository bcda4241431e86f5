import { HttpError } from './errors.js'

/** The JSON spellings HAPI FHIR (BFD's framework) takes in `_format`, lower-cased. */
const JSON_TYPES = new Set([
  'json',
  'application/json',
  'application/fhir+json',
  'application/json+fhir',
])

/** FHIR versions this gateway speaks, as a `fhirVersion` media-type parameter (R4). */
const FHIR_VERSIONS = new Set(['4.0', '4.0.0', '4.0.1'])

function notAcceptable(): HttpError {
  return new HttpError(
    406,
    'not-supported',
    'ERR_FORMAT_UNSUPPORTED',
    'only JSON is served (_format=json or application/fhir+json)',
  )
}

/**
 * Checks a `_format` value as HAPI FHIR reads it: `json`, `application/json`,
 * `application/fhir+json` or the legacy `application/json+fhir`, with a `+` that arrived as a
 * space (an unencoded `+` in a query string decodes to one), and media-type parameters
 * (`;fhirVersion=4.0`, `;charset=utf-8`). Anything else, XML included, is 406: only JSON is made.
 */
export function checkFormat(value: string): void {
  const [type = '', ...params] = value.split(';').map((p) => p.trim().toLowerCase())
  if (!JSON_TYPES.has(type.replace(/ /g, '+'))) throw notAcceptable()
  for (const param of params) {
    const [name, raw = ''] = param.split('=').map((p) => p.trim())
    const v = raw.replace(/^"(.*)"$/, '$1')
    if (name === 'fhirversion' && !FHIR_VERSIONS.has(v)) throw notAcceptable()
    if (name === 'charset' && v !== 'utf-8' && v !== 'utf8') throw notAcceptable()
  }
}
