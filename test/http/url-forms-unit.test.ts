import { describe, expect, it } from 'vitest'
import { checkFormat } from '../../src/http/format.js'
import { HttpError } from '../../src/http/errors.js'
import { parseLastUpdated, parseLastUpdatedParams } from '../../src/http/last-updated.js'
import { inRange } from '../../src/search/index.js'

function status(f: () => unknown): number | undefined {
  try {
    f()
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError)
    return (error as HttpError).status
  }
  return undefined
}

describe('_format, as HAPI FHIR reads it', () => {
  it.each([
    'json',
    'application/json',
    'application/fhir+json',
    'application/fhir json',
    'application/json+fhir',
    'application/json fhir',
    'APPLICATION/FHIR+JSON',
    'application/fhir+json;fhirVersion=4.0',
    'application/fhir+json; fhirVersion=4.0.1',
    'application/fhir+json;charset=utf-8',
    'application/json;charset=UTF-8;fhirVersion=4.0',
  ])('takes %s', (value) => {
    expect(status(() => checkFormat(value))).toBeUndefined()
  })

  it.each([
    'xml',
    'text/xml',
    'application/xml',
    'application/fhir+xml',
    'application/xml+fhir',
    'html',
    '',
    'application/fhir+json;fhirVersion=3.0',
    'application/fhir+json;charset=latin1',
  ])('answers %s with 406', (value) => {
    expect(status(() => checkFormat(value))).toBe(406)
  })
})

describe('_lastUpdated values', () => {
  const at = (iso: string) => new Date(iso)

  it('reads a date at its precision: a day is the whole day', () => {
    expect(parseLastUpdated('2024-03-15')).toEqual({
      prefix: 'eq',
      start: Date.UTC(2024, 2, 15),
      end: Date.UTC(2024, 2, 16),
    })
    expect(parseLastUpdated('ge2024')).toMatchObject({
      prefix: 'ge',
      start: Date.UTC(2024, 0, 1),
      end: Date.UTC(2025, 0, 1),
    })
    expect(parseLastUpdated('lt2024-02')).toMatchObject({ end: Date.UTC(2024, 2, 1) })
  })

  it('reads a dateTime with a zone, seconds and a fraction', () => {
    expect(parseLastUpdated('gt2024-03-15T13:00:00+01:00').start).toBe(Date.UTC(2024, 2, 15, 12))
    expect(parseLastUpdated('le2024-03-15T12:00Z')).toMatchObject({
      start: Date.UTC(2024, 2, 15, 12),
      end: Date.UTC(2024, 2, 15, 12, 1),
    })
    const ms = parseLastUpdated('2024-03-15T12:00:00.250Z')
    expect(ms.end - ms.start).toBe(1)
  })

  it('applies each prefix as FHIR R4 search §3.1.1.5.5 says', () => {
    const t = at('2024-03-15T12:00:00Z')
    const day = (p: string) => inRange(t, [parseLastUpdated(`${p}2024-03-15`)])
    expect(['eq', 'gt', 'ge', 'lt', 'le'].map(day)).toEqual([true, false, true, false, true])
    const before = (p: string) => inRange(t, [parseLastUpdated(`${p}2024-03-14`)])
    expect(['eq', 'gt', 'ge', 'lt', 'le'].map(before)).toEqual([false, true, true, false, false])
  })

  it('ANDs two values, and takes no third', () => {
    const both = parseLastUpdatedParams(['ge2024-01-01', 'lt2025-01-01'])!
    expect(inRange(at('2024-06-01T00:00:00Z'), both)).toBe(true)
    expect(inRange(at('2025-01-01T00:00:00Z'), both)).toBe(false)
    expect(parseLastUpdatedParams([])).toBeUndefined()
    expect(status(() => parseLastUpdatedParams(['ge2024', 'lt2025', 'lt2026']))).toBe(400)
  })

  it.each([
    'ne2024-01-01',
    'sa2024',
    '2024-13-01',
    '2024-02-30',
    '24-01-01',
    'gt',
    '2024-01-01T25:00Z',
    'yesterday',
  ])('refuses %s with 400', (value) => {
    expect(status(() => parseLastUpdated(value))).toBe(400)
  })
})
