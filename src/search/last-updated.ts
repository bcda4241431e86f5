/**
 * `_lastUpdated` (FHIR R4 search §3.1.1.5.5, prefixes eq, gt, ge, lt, le): each bound is the
 * instant range a date value names, `[start, end)` in milliseconds, with its prefix; a search
 * with two bounds wants both (FHIR ANDs repeated parameters).
 */
export interface DateBound {
  prefix: 'eq' | 'gt' | 'ge' | 'lt' | 'le'
  start: number
  end: number
}

/** Whether an instant satisfies one bound: `gt` is after the whole range, `le` before its end. */
export function satisfies(instant: Date, bound: DateBound): boolean {
  const t = instant.getTime()
  switch (bound.prefix) {
    case 'eq':
      return t >= bound.start && t < bound.end
    case 'gt':
      return t >= bound.end
    case 'ge':
      return t >= bound.start
    case 'lt':
      return t < bound.start
    case 'le':
      return t < bound.end
  }
}

export function inRange(instant: Date, bounds: readonly DateBound[] | undefined): boolean {
  return (bounds ?? []).every((b) => satisfies(instant, b))
}
