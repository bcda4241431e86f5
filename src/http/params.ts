import { HttpError } from './errors.js'
import { checkFormat } from './format.js'

/** The parameters of a request: each at most once, except those the caller lets repeat. */
export class Params extends Map<string, string> {
  readonly repeated = new Map<string, string[]>()
  /** Every value of a parameter, in order (one, for a parameter that may not repeat). */
  all(name: string): string[] {
    return this.repeated.get(name) ?? (this.has(name) ? [this.get(name)!] : [])
  }
}

export interface ParamRules {
  /** Parameters that may appear more than once (`_lastUpdated`: a lower and an upper bound). */
  repeatable?: readonly string[]
}

/**
 * The query parameters of a search, each allowed at most once. An unknown or repeated parameter
 * is refused (FHIR "strict" handling): a silently ignored filter could widen a search.
 * Parameter names and values are never echoed: they may hold an identifier.
 */
export function singleParams(
  url: string,
  allowed: readonly string[],
  rules: ParamRules = {},
): Params {
  return singleValues(new URL(url).searchParams, allowed, rules)
}

/** The same rules for any list of name-value pairs (a form-encoded POST body, too). */
export function singleValues(
  pairs: Iterable<[string, string]>,
  allowed: readonly string[],
  rules: ParamRules = {},
): Params {
  const out = new Params()
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
      if (!rules.repeatable?.includes(name)) {
        throw new HttpError(400, 'invalid', 'ERR_PARAM_REPEATED', 'a search parameter is repeated')
      }
      out.repeated.set(name, [...out.all(name), value])
      continue
    }
    out.set(name, value)
  }
  const format = out.get('_format')
  if (format !== undefined) checkFormat(format)
  return out
}
