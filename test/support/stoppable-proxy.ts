import { connect, createServer, type Server, type Socket } from 'node:net'

export interface StoppableProxy {
  port: number
  /** Closes the port and every connection through it: connecting is refused, as to a stopped server. */
  stop(): Promise<void>
  /** Listens on the same port again. */
  start(): Promise<void>
  close(): Promise<void>
}

/**
 * A TCP proxy on a loopback port that can be taken away and brought back: while stopped, a
 * connection attempt gets "connection refused", as a host whose server is stopped answers.
 */
export async function stoppableProxy(
  targetHost: string,
  targetPort: number,
): Promise<StoppableProxy> {
  const open = new Set<Socket>()
  const track = (s: Socket) => {
    open.add(s)
    s.on('close', () => open.delete(s))
    s.on('error', () => s.destroy())
  }
  let server: Server | undefined
  let port = 0
  const start = async () => {
    const next = createServer((client) => {
      track(client)
      const upstream = connect(targetPort, targetHost)
      track(upstream)
      client.pipe(upstream)
      upstream.pipe(client)
      upstream.on('close', () => client.destroy())
      client.on('close', () => upstream.destroy())
    })
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => resolve())
    })
    server = next
    port = (next.address() as { port: number }).port
  }
  const stop = async () => {
    const s = server
    server = undefined
    for (const socket of open) socket.destroy()
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }
  await start()
  return { port, start, stop, close: stop }
}
