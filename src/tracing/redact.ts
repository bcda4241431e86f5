import type { Context } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base'

/** `url.full` as the HTTP instrumentation records it, less its query and fragment. */
export function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/)
  return cut === -1 ? url : url.slice(0, cut)
}

/** What an exception event keeps: its type (the error's stable code), not message or stack. */
const EXCEPTION_DETAIL = ['exception.message', 'exception.stacktrace']

/**
 * Wraps the exporting processor: before a span is ended (while it can still be changed), its
 * `url.full` loses the query string, which carries the identifier token, and its exception
 * events lose message and stack. Nothing else a span holds comes from the request.
 */
export function redactingProcessor(next: SpanProcessor): SpanProcessor {
  return {
    onStart(span: Span, parent: Context) {
      next.onStart(span, parent)
    },
    onEnding(span: Span) {
      const full = span.attributes['url.full']
      if (typeof full === 'string') span.setAttribute('url.full', withoutQuery(full))
      for (const event of span.events) {
        if (event.name !== 'exception' || !event.attributes) continue
        for (const key of EXCEPTION_DETAIL) delete event.attributes[key]
      }
      next.onEnding?.(span)
    },
    onEnd(span: ReadableSpan) {
      next.onEnd(span)
    },
    forceFlush: () => next.forceFlush(),
    shutdown: () => next.shutdown(),
  }
}
