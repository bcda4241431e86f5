import { readFile } from 'node:fs/promises'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type Socket } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { refuseOpenSecretFile, type TlsConfig } from '../config/index.js'
import { SealedSearchError } from '../errors.js'
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

export type ListenErrorCode =
  'ERR_LISTEN_PORT_IN_USE' | 'ERR_LISTEN_NOT_PERMITTED' | 'ERR_LISTEN_FAILED'

/** The gateway could not listen: a start-up error that names the port and what to do. */
export class ListenError extends SealedSearchError<ListenErrorCode> {
  constructor(code: ListenErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'ListenError'
  }
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): ListenError {
  const where = `${host}:${port}`
  if (error.code === 'EADDRINUSE') {
    return new ListenError(
      'ERR_LISTEN_PORT_IN_USE',
      `port ${port} is in use (${where}): stop the process that holds it, or set PORT`,
      { cause: error },
    )
  }
  if (error.code === 'EACCES') {
    return new ListenError(
      'ERR_LISTEN_NOT_PERMITTED',
      `port ${port} needs privileges this process does not have (${where}): set PORT above 1023`,
      { cause: error },
    )
  }
  return new ListenError(
    'ERR_LISTEN_FAILED',
    `cannot listen on ${where}: ${error.code ?? error.message}`,
    {
      cause: error,
    },
  )
}

/**
 * Binds the port and lets it go at once, so a port in use stops start-up before the database is
 * opened, migrated or seeded (which takes seconds). The real listen still reports a port taken
 * in between. Port 0 (any free port) needs no check.
 */
export async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return
  const probe = createNetServer()
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)))
    probe.listen({ host, port, exclusive: true }, () => resolve())
  })
  await new Promise<void>((resolve) => probe.close(() => resolve()))
}

function rawOutcome(
  status: number,
  reason: string,
  message: string,
  code?: string,
  extra = '',
): string {
  const issue = status === 431 ? 'too-long' : status === 405 ? 'not-supported' : 'invalid'
  const body = JSON.stringify(operationOutcome(issue, message, code))
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/fhir+json; charset=utf-8\r\n` +
    `${extra}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  )
}

/**
 * Starts the HTTP(S) server. Requests the HTTP parser refuses before the app sees them (headers
 * over node's 16 KiB limit, malformed request lines) still get an OperationOutcome.
 */
export async function listen(fetch: FetchHandler, options: ListenOptions): Promise<ServerType> {
  const { tls, logger } = options
  // The TLS private key is refused, like the key ring's key files, when others may read it.
  if (tls) refuseOpenSecretFile('TLS_KEY_FILE', tls.keyFile)
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
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(
      {
        fetch,
        hostname: options.host,
        port: options.port,
        ...(serverOptions ? { createServer: createHttpsServer, serverOptions } : {}),
      },
      () => {
        s.off('error', refused)
        resolve(s)
      },
    )
    // Before it listens, an error (port in use, no permission) fails start-up with one line.
    const refused = (error: NodeJS.ErrnoException) =>
      reject(listenError(error, options.host, options.port))
    s.once('error', refused)
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
  // node hands CONNECT to this event, not to the app, and closes the socket when nobody
  // listens: answer it as any other method the gateway does not serve (RFC 9110 §9.3.6).
  server.on('connect', (_request: unknown, socket: Socket) => {
    logger.info({ method: 'CONNECT', status: 405, client: socket.remoteAddress }, 'request')
    if (!socket.writable) return void socket.destroy()
    const answer = rawOutcome(
      405,
      'Method Not Allowed',
      'method not allowed',
      'ERR_METHOD_NOT_ALLOWED',
      'Allow: GET, HEAD, POST\r\n',
    )
    socket.end(answer, () => socket.destroy())
  })
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    logger.warn({ client: socket.remoteAddress, code: error.code }, 'TLS handshake refused')
  })
  return server
}
