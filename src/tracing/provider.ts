import type { Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { redactingProcessor } from './redact.js'

export interface Tracing {
  tracer: Tracer
  /** Sends the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>
}

/**
 * OpenTelemetry traces over OTLP/HTTP (JSON) to `endpoint` + `/v1/traces`, as the OTLP exporter
 * specification derives the traces URL from OTEL_EXPORTER_OTLP_ENDPOINT. Registers the provider
 * globally, so the active span follows the request through async calls.
 */
export function startTracing(endpoint: string, version: string): Tracing {
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` })
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'sealed-search',
      'service.version': version,
    }),
    spanProcessors: [
      redactingProcessor(new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })),
    ],
  })
  provider.register()
  return {
    tracer: provider.getTracer('sealed-search', version),
    shutdown: () => provider.shutdown(),
  }
}
