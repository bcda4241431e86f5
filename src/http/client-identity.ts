import type { TLSSocket } from 'node:tls'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './env.js'
import { OTHER_CLIENT } from '../metrics/index.js'
import { HttpError } from './errors.js'

export interface ClientOptions {
  /**
   * SHA-256 fingerprints (colon-separated upper-case hex, as node prints them) of the client
   * certificates to serve. When set, a request needs a verified client certificate on the list.
   */
  allowlist?: readonly string[]
  /** Fingerprints (same form) of the clients whose tokens must be sender-bound. */
  boundClients?: readonly string[]
  /** Allowlisted fingerprints marked `=pq`: their tokens must be hybrid (X-Wing). */
  pqClients?: readonly string[]
}

function socketOf(env: unknown): (TLSSocket & { encrypted?: boolean }) | undefined {
  return (env as { incoming?: { socket?: TLSSocket } } | undefined)?.incoming?.socket
}

/**
 * Names the client for logs and audit records: `cn=<subject CN> sha256=<fingerprint>` for a
 * verified client certificate (mTLS), else the remote address. For metric labels (`partner`) the
 * same name only for a configured partner (a fingerprint on the allowlist), else `other`: a label
 * never comes from what a client controls, so the series stay bounded by the configuration. With
 * an allowlist, refuses every other client with 403 (the TLS layer has already refused a missing
 * or unknown-CA cert).
 */
export function clientIdentity({
  allowlist,
  boundClients = [],
  pqClients = [],
}: ClientOptions = {}): MiddlewareHandler<AppEnv> {
  const allowed = allowlist ? new Set(allowlist) : undefined
  const mustBind = new Set(boundClients)
  const mustPq = new Set(pqClients)
  return async function clientIdentityMiddleware(c, next) {
    const socket = socketOf(c.env)
    let id = socket?.remoteAddress ?? 'unknown'
    let certified = false
    let certThumbprint: Uint8Array | undefined
    let bound = false
    let partner = OTHER_CLIENT
    let pq = false
    if (socket?.encrypted && typeof socket.getPeerCertificate === 'function') {
      const cert = socket.getPeerCertificate()
      if (socket.authorized && cert?.fingerprint256) {
        const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : ''
        id = `cn=${cn} sha256=${cert.fingerprint256}`
        // The fingerprint is SHA-256 over the DER: RFC 8705 §3.1's x5t#S256, as bytes.
        certThumbprint = new Uint8Array(Buffer.from(cert.fingerprint256.replaceAll(':', ''), 'hex'))
        certified = allowed === undefined || allowed.has(cert.fingerprint256)
        bound = mustBind.has(cert.fingerprint256)
        if (allowed?.has(cert.fingerprint256) || bound) partner = id
        pq = mustPq.has(cert.fingerprint256)
      }
    }
    c.set('client', id)
    c.set('partner', partner)
    c.set('sender', { certThumbprint, mustBind: bound, mustPq: pq })
    if (allowed && !certified) {
      throw new HttpError(
        403,
        'security',
        'ERR_CLIENT_NOT_ALLOWED',
        'client certificate not allowed',
      )
    }
    await next()
  }
}
