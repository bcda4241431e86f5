import { createServer, connect, type Server, type Socket } from 'node:net'

export type ProxyMode = 'pass' | 'refuse' | 'blackhole'

export interface FaultProxy {
  port: number
  /** pass: forward; refuse: close connections at once; blackhole: accept and never answer. */
  setMode(mode: ProxyMode): void
  close(): Promise<void>
}

/**
 * A TCP proxy on loopback in front of a database, to cut it off and bring it back while a
 * gateway is using it. Changing the mode drops every open connection.
 */
export async function faultProxy(targetHost: string, targetPort: number): Promise<FaultProxy> {
  let mode: ProxyMode = 'pass'
  const open = new Set<Socket>()
  const track = (s: Socket) => {
    open.add(s)
    s.on('close', () => open.delete(s))
    s.on('error', () => s.destroy())
  }
  const server: Server = createServer((client) => {
    track(client)
    if (mode === 'refuse') return void client.destroy()
    if (mode === 'blackhole') return void client.on('data', () => {})
    const upstream = connect(targetPort, targetHost)
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    upstream.on('close', () => client.destroy())
    client.on('close', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    setMode(next) {
      mode = next
      for (const s of open) s.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy()
        server.close(() => resolve())
      }),
  }
}
