/**
 * `keys status --gateways` (src/keys/custody/fleet-status.ts) against small loopback servers
 * standing in for gateways: converged only when every instance is ready, serves the store's
 * version and publishes a key of every curve the ring publishes; a rollback named from the ring
 * generation an instance applied.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { fleetStatus, rollbacks } from '../../src/keys/custody/fleet-status.js'

const servers: Server[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
})

async function gateway(
  ready: number,
  version: number,
  curves: string[],
  extra: { clockSkew?: string; generation?: number } = {},
): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/health/ready') {
      const headers: Record<string, string> = { 'Key-Ring-Version': String(version) }
      if (extra.clockSkew !== undefined) headers['Clock-Skew'] = extra.clockSkew
      if (extra.generation !== undefined) headers['Key-Ring-Generation'] = String(extra.generation)
      res.writeHead(ready, headers).end('{}')
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
    const a = await gateway(200, 7, ['P-256'], { clockSkew: '0.004' })
    const b = await gateway(200, 7, ['P-256'], { clockSkew: '-30.125' })
    const c = await gateway(200, 7, ['P-256'])
    const status = await fleetStatus([a, b, c], 7, ['P-256'], { maxSkewSeconds: 2 })
    expect(status.converged).toBe(false)
    expect(status.instances.map((i) => i.clockSkewSeconds)).toEqual([0.004, -30.125, undefined])
    expect((await fleetStatus([a, c], 7, ['P-256'], { maxSkewSeconds: 2 })).converged).toBe(true)
  })

  it('names each instance that applied a later generation than the store holds: a rollback', async () => {
    const saw = await gateway(200, 7, ['P-256'], { generation: 12 })
    const late = await gateway(200, 7, ['P-256'], { generation: 9 })
    const status = await fleetStatus([saw, late], 7, ['P-256'], { storeGeneration: 9 })
    expect(status.instances.map((i) => i.generation)).toEqual([12, 9])
    expect(status.converged).toBe(false)
    expect(status.rollbacks).toEqual([
      {
        level: 'error',
        message: `the ring's generation 9 is lower than generation 12 that ${saw} applied: a rollback`,
      },
    ])
    // The same fleet on the later ring, or one behind it: nothing to name.
    expect(
      (await fleetStatus([saw, late], 7, ['P-256'], { storeGeneration: 12 })).rollbacks,
    ).toEqual([])
    expect(rollbacks(undefined, status.instances)).toEqual([])
  })

  it('reads no generation from an instance that does not send one', async () => {
    const old = await gateway(200, 7, ['P-256'])
    const status = await fleetStatus([old], 7, ['P-256'], { storeGeneration: 0 })
    expect(status.instances[0]!.generation).toBeUndefined()
    expect(status.rollbacks).toEqual([])
    expect(status.converged).toBe(true)
  })
})
