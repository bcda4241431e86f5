import postgres from 'postgres'
import type { StoreEvents, StoreSubscription } from './key-store.js'

/** The channel every key ring change is announced on; the payload is `<schema>:<version>`. */
export const KEY_RING_CHANNEL = 'sealed_search_key_ring'

export interface ListenOptions {
  /** The primary (DATABASE_URL): NOTIFY is not delivered to sessions on a hot standby. */
  url: string
  searchPath?: string | undefined
  connectTimeoutSeconds?: number
  /** Wait between attempts to listen again after the connection dropped. */
  retryMs?: number
}

/**
 * LISTEN on a connection of its own, kept open. When it drops (a restart, a failover,
 * pg_terminate_backend, a network cut) it listens again every `retryMs` until it succeeds, then
 * reports `resumed`: notifications sent meanwhile are lost, so the follower reloads.
 */
export async function listenForRingChanges(
  options: ListenOptions,
  events: StoreEvents,
): Promise<StoreSubscription> {
  const retryMs = options.retryMs ?? 1000
  let closed = false
  let listening = false
  let dropped = false
  let retry: NodeJS.Timeout | undefined
  let schema: string | undefined

  const schedule = () => {
    if (!closed && !retry) retry = setTimeout(() => void attempt(), retryMs)
  }
  const onClose = () => {
    if (closed) return
    if (listening) events.lost(new Error('the LISTEN connection closed'))
    if (listening) dropped = true
    listening = false
    schedule()
  }
  const conn = postgres(options.url, {
    max: 1,
    max_lifetime: null,
    // Reconnect attempts are paced by `retryMs`, not by postgres.js's growing backoff.
    backoff: () => Math.min(retryMs / 1000, 1),
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    onnotice: () => {},
    onclose: onClose,
    // postgres.js delivers every notification of this connection here (not in its types).
    onnotify: (channel: string, payload: string) => {
      if (channel !== KEY_RING_CHANNEL) return
      if (payload.slice(0, payload.lastIndexOf(':')) === schema) events.changed('notification')
    },
    connection: {
      application_name: 'sealed-search-keys',
      ...(options.searchPath ? { search_path: options.searchPath } : {}),
    },
  } as postgres.Options<Record<string, never>>)

  async function attempt(): Promise<void> {
    retry = undefined
    if (closed) return
    try {
      const [row] = await conn<{ schema: string }[]>`select current_schema() as schema`
      schema = row!.schema
      await conn`listen ${conn(KEY_RING_CHANNEL)}`
      listening = true
      if (dropped) {
        dropped = false
        events.resumed('LISTEN resumed')
      }
    } catch (error) {
      if (closed) return
      if (!dropped) events.lost(error)
      dropped = true
      listening = false
      schedule()
    }
  }

  await attempt()
  return {
    async close() {
      closed = true
      clearTimeout(retry)
      await conn.end({ timeout: 1 })
    },
  }
}
