/**
 * `keys status --gateways` (src/keys/custody/fleet-status.ts) against small loopback servers
 * standing in for gateways: converged only when every instance is ready, serves the store's
 * version and publishes a key of every curve the ring publishes.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { fleetStatus } from '../../src/keys/custody/fleet-status.js'

const servers: Server[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
})

async function gateway(
  ready: number,
  version: number,
  curves: string[],
  clockSkew?: string,
): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/health/ready') {
      const skew = clockSkew === undefined ? {} : { 'Clock-Skew': clockSkew }
      res.writeHead(ready, { 'Key-Ring-Version': String(version), ...skew }).end('{}')
    } else {
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ keys: curves.map((crv, i) => ({ kid: `k${i}`, crv })) }))
    }
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('fleet status', () => {
  it('is converged when every instance is ready, on the version, publishing every curve', async () => {
    const a = await gateway(200, 7, ['P-256', 'X25519'])
    const b = await gateway(200, 7, ['X25519', 'P-256'])
    const status = await fleetStatus([a, b], 7, ['P-256', 'X25519'])
    expect(status.converged).toBe(true)
  })

  it('is not converged while an instance publishes no key of a curve the ring publishes', async () => {
    const a = await gateway(200, 7, ['P-256', 'X25519'])
    const b = await gateway(200, 7, ['X25519'])
    const status = await fleetStatus([a, b], 7, ['P-256', 'X25519'])
    expect(status.converged).toBe(false)
    expect(status.instances[1]!.missingCurves).toEqual(['P-256'])
  })

  it('is not converged while an instance is unready, and names an unreachable one’s reason', async () => {
    const a = await gateway(503, 7, ['P-256'])
    const closed = await gateway(200, 7, ['P-256'])
    await new Promise((r) => servers.pop()!.close(r))
    const status = await fleetStatus([a, closed], 7, ['P-256'])
    expect(status.converged).toBe(false)
    expect(status.instances[0]!.ready).toBe(503)
    expect(status.instances[1]!.ready).toBe('ECONNREFUSED')
  })

  it('is not converged while an instance’s clock is beyond the bound, and reads each skew', async () => {
    const a = await gateway(200, 7, ['P-256'], '0.004')
    const b = await gateway(200, 7, ['P-256'], '-30.125')
    const c = await gateway(200, 7, ['P-256'])
    const status = await fleetStatus([a, b, c], 7, ['P-256'], 2)
    expect(status.converged).toBe(false)
    expect(status.instances.map((i) => i.clockSkewSeconds)).toEqual([0.004, -30.125, undefined])
    expect((await fleetStatus([a, c], 7, ['P-256'], 2)).converged).toBe(true)
  })
})
