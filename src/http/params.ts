import { HttpError } from './errors.js'

const FHIR_JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json'])

/**
 * The query parameters of a search, each allowed at most once. An unknown or repeated parameter
 * is refused (FHIR "strict" handling): a silently ignored filter could widen a search.
 * Parameter names and values are never echoed: they may hold an identifier.
 */
export function singleParams(url: string, allowed: readonly string[]): Map<string, string> {
  return singleValues(new URL(url).searchParams, allowed)
}

/** The same rules for any list of name-value pairs (a form-encoded POST body, too). */
export function singleValues(
  pairs: Iterable<[string, string]>,
  allowed: readonly string[],
): Map<string, string> {
  const out = new Map<string, string>()
  for (const [name, value] of pairs) {
    if (!allowed.includes(name)) {
      throw new HttpError(
        400,
        'not-supported',
        'ERR_PARAM_UNSUPPORTED',
        `unsupported search parameter; supported: ${allowed.join(', ')}`,
      )
    }
    if (out.has(name)) {
      throw new HttpError(400, 'invalid', 'ERR_PARAM_REPEATED', 'a search parameter is repeated')
    }
    out.set(name, value)
  }
  const format = out.get('_format')
  if (format !== undefined && !FHIR_JSON_FORMATS.has(format)) {
    throw new HttpError(400, 'not-supported', 'ERR_FORMAT_UNSUPPORTED', 'only JSON is supported')
  }
  return out
}
