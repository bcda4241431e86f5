/**
 * Real TLS for tests: a CA, a server certificate for 127.0.0.1 and partner client certificates,
 * all made with openssl in a temporary directory, and a gateway process with mTLS on, started
 * once per test file. Requests with a client certificate: ./https.ts.
 */
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js'
import type { Tls } from './https.js'
import { tempDir } from './keys.js'

export interface Partner {
  name: string
  /** PEM files: the certificate, its PKCS#8 private key, and the certificate as DER. */
  certFile: string
  keyFile: string
  derFile: string
  cert: Buffer
  key: Buffer
  /** What the gateway's allowlist names: SHA-256 of the DER, colon-separated hex. */
  fingerprint256: string
}

export interface Pki {
  dir: string
  caFile: string
  ca: Buffer
  serverCertFile: string
  serverKeyFile: string
  partners: Record<string, Partner>
}

/** Makes a CA, a server certificate for IP 127.0.0.1 and one client certificate per name. */
export async function makeCertificates(
  dir: string,
  names: readonly string[] = ['partner-a', 'partner-b'],
): Promise<Pki> {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const key = (name: string) =>
    ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`)
  key('ca')
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=ca')
  const signed = (name: string, ext?: string) => {
    key(name)
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`)
    const extfile = ext ? ['-extfile', ext] : []
    ssl(
      ...['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key'],
      ...['-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...extfile],
    )
  }
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n')
  signed('server', 'server.ext')
  const partners: Record<string, Partner> = {}
  for (const name of names) {
    signed(name)
    const cert = await readFile(join(dir, `${name}.crt`))
    const x509 = new X509Certificate(cert)
    const derFile = join(dir, `${name}.der`)
    await writeFile(derFile, x509.raw)
    partners[name] = {
      name,
      certFile: join(dir, `${name}.crt`),
      keyFile: join(dir, `${name}.key`),
      derFile,
      cert,
      key: await readFile(join(dir, `${name}.key`)),
      fingerprint256: x509.fingerprint256,
    }
  }
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    ca: await readFile(join(dir, 'ca.crt')),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    partners,
  }
}

export interface MtlsGateway {
  /** https://127.0.0.1:PORT; the JWKS as fetched over partner-a's certificate. */
  gateway: GatewayProcess
  pki: Pki
  /** The TLS options of a partner: the CA, its certificate and key. */
  tls(name: string): Tls
  /** SIGTERM to the gateway, then its directory and the certificates are removed. */
  stop(): Promise<void>
}

/**
 * A gateway process (test/support/gateway-process.ts) with mTLS on: the client CA of a fresh
 * PKI, partner-a and partner-b on the allowlist. Settings in `env` win.
 */
export async function startMtlsGatewayProcess(
  env: Record<string, string | undefined> = {},
): Promise<MtlsGateway> {
  const dir = await tempDir('sealed-mtls-')
  try {
    const pki = await makeCertificates(dir)
    const tls = (name: string): Tls => {
      const p = pki.partners[name]!
      return { ca: pki.ca, cert: p.cert, key: p.key }
    }
    const gateway = await startGatewayProcess(
      {
        TLS_CERT_FILE: pki.serverCertFile,
        TLS_KEY_FILE: pki.serverKeyFile,
        TLS_CLIENT_CA_FILE: pki.caFile,
        TLS_CLIENT_ALLOWLIST: Object.values(pki.partners)
          .map((p) => p.fingerprint256)
          .join(','),
        ...env,
      },
      { tls: tls('partner-a') },
    )
    const stop = async () => {
      await gateway.stop()
      await rm(dir, { recursive: true, force: true })
    }
    return { gateway, pki, tls, stop }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/**
 * The options the partner command lines (clients/python, java, go) share for a bound search:
 * `--cacert`, `--cert`/`--key` of the partner the connection presents, `--bind-cert` of the
 * partner the token is bound to.
 */
export function mtlsOptions(pki: Pki, over: string, boundTo: string): string[] {
  const connection = pki.partners[over]!
  return [
    ...['--cacert', pki.caFile, '--cert', connection.certFile, '--key', connection.keyFile],
    ...['--bind-cert', pki.partners[boundTo]!.certFile],
  ]
}

/** The base64url `x5t#S256` of a partner's certificate (RFC 8705 §3.1). */
export const x5tS256 = (partner: Partner): string =>
  Buffer.from(partner.fingerprint256.replaceAll(':', ''), 'hex').toString('base64url')
