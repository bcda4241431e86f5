import { readFile } from 'node:fs/promises'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import type { TlsConfig } from '../config/index.js'
import { operationOutcome } from '../fhir/outcome.js'
import type { Logger } from '../log/logger.js'

type FetchHandler = (request: Request, env: unknown) => Response | Promise<Response>

export interface ListenOptions {
  host: string
  port: number
  /** mTLS: HTTPS that requires a client certificate chaining to the client CA. */
  tls?: TlsConfig | undefined
  logger: Logger
}

function rawOutcome(status: number, reason: string, message: string): string {
  const body = JSON.stringify(operationOutcome(status === 431 ? 'too-long' : 'invalid', message))
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/fhir+json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  )
}

/**
 * Starts the HTTP(S) server. Requests the HTTP parser refuses before the app sees them (headers
 * over node's 16 KiB limit, malformed request lines) still get an OperationOutcome.
 */
export async function listen(fetch: FetchHandler, options: ListenOptions): Promise<ServerType> {
  const { tls, logger } = options
  const serverOptions = tls
    ? {
        cert: await readFile(tls.certFile),
        key: await readFile(tls.keyFile),
        ca: await readFile(tls.clientCaFile),
        // A client without a certificate, or with one from another CA, fails the handshake.
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2' as const,
      }
    : undefined
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve(
      {
        fetch,
        hostname: options.host,
        port: options.port,
        ...(serverOptions ? { createServer: createHttpsServer, serverOptions } : {}),
      },
      () => resolve(s),
    )
  })
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable) {
      socket.end(
        error.code === 'HPE_HEADER_OVERFLOW'
          ? rawOutcome(431, 'Request Header Fields Too Large', 'request headers are too large')
          : rawOutcome(400, 'Bad Request', 'malformed HTTP request'),
      )
    }
    socket.destroy()
  })
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    logger.warn({ client: socket.remoteAddress, code: error.code }, 'TLS handshake refused')
  })
  return server
}
