import cluster, { type Worker } from 'node:cluster'
import type { Config } from './config/index.js'
import { openDatabase } from './db/connect.js'
import { checkPortFree } from './http/listen.js'
import { SealedSearchError } from './errors.js'
import { forgetOpenedKeys, noActiveKey, refusal, ringFromStore } from './keys/ring/follow.js'
import { gatewayKeyStore } from './keys/stores/gateway-store.js'
import { closePkcs11Tokens } from './keys/index.js'
import { requireKeyDirectory } from './keys/stores/dir-exists.js'
import type { Logger } from './log/logger.js'
import { prepareGateway, type RunningGateway } from './server.js'

/**
 * Cluster mode (CLUSTER_WORKERS): a primary process that serves nothing itself and N workers,
 * each a whole gateway on the same port (node:cluster hands connections to them in turn). Each
 * worker watches the key directory; the primary forwards SIGHUP to every worker and stops them
 * all on SIGTERM or SIGINT. Nothing here runs unless src/index.ts calls it.
 */

const READY = 'sealed-search:ready'
/** How long the primary waits for workers to stop before it kills them. */
const STOP_TIMEOUT_MS = 15_000
const RESTART_DELAY_MS = { first: 1_000, max: 30_000 }

interface ReadyMessage {
  type: typeof READY
  url: string
  exampleUrl: string | undefined
}

export interface ClusterStarted {
  url: string
  exampleUrl: string | undefined
  pids: number[]
}

export function isClusterWorker(): boolean {
  return cluster.isWorker
}

/** In a worker: tell the primary this gateway serves, and stop when the primary goes away. */
export function reportWorkerReady(gateway: RunningGateway, stop: (reason: string) => void): void {
  const message: ReadyMessage = { type: READY, url: gateway.url, exampleUrl: gateway.exampleUrl }
  process.send?.(message)
  process.on('disconnect', () => stop('primary exited'))
}

function isReady(message: unknown): message is ReadyMessage {
  return (message as { type?: unknown } | null)?.type === READY
}

/**
 * The primary: migrations, seeding and a development key once, a check that the key directory
 * loads, then N workers. Resolves when every worker serves; rejects if one exits before that
 * (its own error is already on stderr), after stopping the others.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<ClusterStarted> {
  await checkPortFree(config.server.host, config.server.port)
  const db = await openDatabase(config.db)
  try {
    await prepareGateway(config, db, logger)
  } finally {
    await db.close()
  }
  if (config.keys.store === 'dir' && !config.keys.autoGenerate) {
    await requireKeyDirectory(config.keys.dir, 'KEYS_DIR')
  }
  const store = gatewayKeyStore(config, { listen: false })
  try {
    const stored = await store.read()
    const refused = refusal(stored, store.location)
    if (refused) throw refused
    // The primary only checks that the keys open: the workers open them again for themselves.
    const opened: Parameters<typeof ringFromStore>[1] = new Map()
    try {
      const ring = await ringFromStore(stored, opened, (error) => {
        throw error
      })
      if (ring.active().length === 0) throw noActiveKey(store.location, [])
    } finally {
      forgetOpenedKeys(opened)
    }
  } finally {
    await store.close()
    closePkcs11Tokens() // the workers open the token themselves
  }

  const workers = new Set<Worker>()
  let stopping = false
  let started = false
  let restartDelay = RESTART_DELAY_MS.first

  const stopAll = (signal: string): Promise<number> => {
    stopping = true
    logger.info({ signal, workers: [...workers].map((w) => w.process.pid) }, 'stopping workers')
    const exits = [...workers].map(
      (w) => new Promise<number>((resolve) => w.once('exit', (code) => resolve(code ?? 1))),
    )
    for (const w of workers) w.process.kill('SIGTERM')
    const timer = setTimeout(() => {
      logger.error('workers did not stop in time; killing them')
      for (const w of workers) w.process.kill('SIGKILL')
    }, STOP_TIMEOUT_MS)
    return Promise.all(exits).then((codes) => {
      clearTimeout(timer)
      return codes.every((c) => c === 0) ? 0 : 1
    })
  }

  return new Promise<ClusterStarted>((resolve, reject) => {
    const ready = new Map<Worker, ReadyMessage>()
    const fork = () => {
      const worker = cluster.fork()
      workers.add(worker)
      worker.on('message', (message: unknown) => {
        if (!isReady(message)) return
        ready.set(worker, message)
        restartDelay = RESTART_DELAY_MS.first
        if (started || ready.size < config.cluster.workers) return
        started = true
        resolve({
          url: message.url,
          exampleUrl: message.exampleUrl,
          pids: [...ready.keys()].map((w) => w.process.pid!),
        })
      })
      worker.on('exit', (code, signal) => {
        workers.delete(worker)
        const wasReady = ready.delete(worker)
        if (stopping) return
        if (!started) {
          logger.error({ worker: worker.process.pid, code, signal }, 'worker failed to start')
          void stopAll('start-up failure').then(() => reject(new WorkerStartError()))
          return
        }
        // A worker that served and died is replaced; repeated failures back off.
        logger.error(
          { worker: worker.process.pid, code, signal, wasReady },
          'worker exited; restarting',
        )
        setTimeout(() => !stopping && fork(), restartDelay)
        restartDelay = Math.min(restartDelay * 2, RESTART_DELAY_MS.max)
      })
    }
    for (let i = 0; i < config.cluster.workers; i++) fork()

    process.on('SIGHUP', () => {
      logger.info({ workers: [...workers].map((w) => w.process.pid) }, 'forwarding SIGHUP')
      for (const w of workers) w.process.kill('SIGHUP')
    })
    const stop = (signal: string) => {
      if (stopping) return
      void stopAll(signal).then((code) => process.exit(code))
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })
}

/** A worker exited before it served; its own start-up error is already on stderr. */
export class WorkerStartError extends SealedSearchError<'ERR_CLUSTER_WORKER_START'> {
  constructor() {
    super('ERR_CLUSTER_WORKER_START', 'a cluster worker failed to start (its error is above)')
    this.name = 'WorkerStartError'
  }
}
