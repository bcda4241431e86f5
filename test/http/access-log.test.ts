import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { accessLog } from '../../src/http/access-log.js'
import type { AppEnv } from '../../src/http/env.js'
import { createLogger } from '../../src/log/logger.js'
import type { LogLevel } from '../../src/config/index.js'
import { createMetrics } from '../../src/metrics/index.js'

function appLoggingAt(level: LogLevel) {
  const lines: string[] = []
  const logger = createLogger(level, { write: (line: string) => void lines.push(line) })
  const metrics = createMetrics({ defaultMetrics: false })
  const app = new Hono<AppEnv>()
  app.use(accessLog(logger, metrics))
  app.get('/v2/fhir/Patient/:id', (c) => c.text('ok'))
  return { app, lines, metrics }
}

async function counted(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const { values } = await metrics.requests.get()
  return values.reduce((sum, v) => sum + v.value, 0)
}

describe('the access log', () => {
  it('writes one line per request at info, with the path and status', async () => {
    const { app, lines, metrics } = appLoggingAt('info')
    await app.request('/v2/fhir/Patient/-10000000001?_format=json')
    expect(lines).toHaveLength(1)
    const line = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(line).toMatchObject({
      msg: 'request',
      path: '/v2/fhir/Patient/-10000000001',
      query: '?_format=json',
      status: 200,
    })
    expect(await counted(metrics)).toBe(1)
  })

  it.each(['warn', 'silent'] as const)(
    'writes nothing at %s, and still counts the request in the metrics',
    async (level) => {
      const { app, lines, metrics } = appLoggingAt(level)
      await app.request('/v2/fhir/Patient/-10000000001')
      await app.request('/v2/fhir/Patient/-10000000002')
      expect(lines).toEqual([])
      expect(await counted(metrics)).toBe(2)
    },
  )
})
