/**
 * The tracing helpers on their own: inSpan() without a tracer only runs the work; with one, a
 * failure is recorded by its code only; the redacting processor cuts the query string from
 * url.full and the message and stack from exception events before a span is exported.
 */
import { describe, expect, it } from 'vitest'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { TokenError } from '../../src/crypto/errors.js'
import { redactingProcessor, withoutQuery } from '../../src/tracing/redact.js'
import { inSpan } from '../../src/tracing/span.js'

function tracing() {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    spanProcessors: [redactingProcessor(new SimpleSpanProcessor(exporter))],
  })
  return { exporter, tracer: provider.getTracer('test') }
}

describe('tracing helpers', () => {
  it('cuts the query and fragment from a URL', () => {
    expect(withoutQuery('https://g.test/v2/fhir/Patient?identifier=x%7Cey.a.b')).toBe(
      'https://g.test/v2/fhir/Patient',
    )
    expect(withoutQuery('https://g.test/a#frag')).toBe('https://g.test/a')
    expect(withoutQuery('https://g.test/a')).toBe('https://g.test/a')
  })

  it('runs the work without a span when there is no tracer', async () => {
    let given: unknown = 'unset'
    const result = await inSpan(undefined, 'x', {}, async (span) => {
      given = span
      return 42
    })
    expect(result).toBe(42)
    expect(given).toBeUndefined()
  })

  it('records a failure as error.type, the stable code, and rethrows it', async () => {
    const { exporter, tracer } = tracing()
    const failing = inSpan(tracer, 'token.open', {}, async () => {
      throw new TokenError('ERR_TOKEN_MALFORMED')
    })
    await expect(failing).rejects.toMatchObject({ code: 'ERR_TOKEN_MALFORMED' })
    const [span] = exporter.getFinishedSpans()
    expect(span!.name).toBe('token.open')
    expect(span!.attributes['error.type']).toBe('ERR_TOKEN_MALFORMED')
    expect(span!.status.code).toBe(2)
    expect(span!.events).toEqual([])
  })

  it('exports url.full without its query, and exception events with their type only', () => {
    const { exporter, tracer } = tracing()
    const span = tracer.startSpan('GET /v2/fhir/Patient', {
      attributes: { 'url.full': 'http://g.test/v2/fhir/Patient?identifier=s%7Ctoken-part' },
    })
    span.recordException(Object.assign(new Error('detail token-part'), { name: 'ERR_X' }))
    span.end()
    const [done] = exporter.getFinishedSpans()
    expect(done!.attributes['url.full']).toBe('http://g.test/v2/fhir/Patient')
    expect(done!.events[0]!.attributes).toEqual({ 'exception.type': 'ERR_X' })
    expect(JSON.stringify(done!.attributes) + JSON.stringify(done!.events)).not.toContain(
      'token-part',
    )
  })
})
