import type { ServerConfig, TlsConfig } from './types.js'

/** The gateway's base URL: PUBLIC_BASE_URL, else http(s)://HOST:<port it listens on>. */
export function baseUrl(
  config: {
    server: Pick<ServerConfig, 'publicBaseUrl' | 'host' | 'port'>
    tls?: TlsConfig | undefined
  },
  port = config.server.port,
): string {
  const { publicBaseUrl, host } = config.server
  if (publicBaseUrl) return publicBaseUrl
  const bracketed = host.includes(':') ? `[${host}]` : host
  return `${config.tls ? 'https' : 'http'}://${bracketed}:${port}`
}
