import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { start, type Running } from './process.js'

export interface Balancer {
  url: string
  running: Running
  stop(): Promise<void>
}

/** A port the system says is free now (closed again before it is handed out). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * Real haproxy (the Debian package) in front of gateways on loopback: round robin per request,
 * health checks on /health/ready, no retries and no redispatch, so a request a gateway fails
 * reaches the client as it is. Runs in the foreground (-db) from a config written to `dir`.
 * With `accessLog`, it writes an access line per request to its output in the Common Log Format
 * (`option httplog clf`), as an operator's haproxy writes to its log. `global` and `frontend` add
 * lines to those sections (limits, headers a balancer adds).
 */
export async function startHaproxy(
  dir: string,
  servers: { name: string; port: number }[],
  extra: { accessLog?: boolean; global?: string[]; frontend?: string[] } = {},
): Promise<Balancer> {
  const port = await freePort()
  const config = [
    'global',
    '  maxconn 1024',
    ...(extra.accessLog ? ['  log stdout format raw local0'] : []),
    ...(extra.global ?? []),
    'defaults',
    '  mode http',
    ...(extra.accessLog ? ['  log global', '  option httplog clf'] : []),
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  retries 0',
    'frontend partners',
    `  bind 127.0.0.1:${port}`,
    ...(extra.frontend ?? []),
    '  default_backend gateways',
    'backend gateways',
    '  balance roundrobin',
    '  option httpchk GET /health/ready',
    '  http-check expect status 200',
    '  default-server inter 250ms fall 2 rise 2',
    ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`),
    '',
  ].join('\n')
  const file = join(dir, 'haproxy.cfg')
  await writeFile(file, config)
  const running = start('haproxy', ['-db', '-f', file], { ...process.env })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  // Ready when it answers through a backend it has checked.
  for (;;) {
    const status = await fetch(`${url}/health/live`).then(
      (r) => r.status,
      () => 0,
    )
    if (status === 200) break
    if (Date.now() > deadline || running.child.exitCode !== null) {
      await running.stop()
      throw new Error(`haproxy did not come up; output:\n${running.output()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    running,
    async stop() {
      await running.stop()
    },
  }
}
