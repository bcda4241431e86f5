import {
  SpanStatusCode,
  type Attributes,
  type Span,
  type SpanKind,
  type Tracer,
} from '@opentelemetry/api'

export type { Tracer }

export interface SpanOptions {
  kind?: SpanKind
  /** Fixed facts only: never a token, an identifier or key material. */
  attributes?: Attributes
}

/**
 * Runs `work` in a span, a child of the active one, when tracing is on. Without a tracer it only
 * runs `work`: tracing off costs one comparison. A failure sets the span's status and
 * `error.type` to the error's stable `code`; its message and stack are never recorded.
 */
export function inSpan<T>(
  tracer: Tracer | undefined,
  name: string,
  options: SpanOptions,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracer) return work(undefined)
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await work(span)
    } catch (error) {
      const code = (error as { code?: unknown }).code
      span.setAttribute('error.type', typeof code === 'string' ? code : 'Error')
      span.setStatus({ code: SpanStatusCode.ERROR })
      throw error
    } finally {
      span.end()
    }
  })
}
