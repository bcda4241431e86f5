/**
 * The gateway's entry point and the only module with side effects: read the configuration,
 * start the gateway, print how to use it, stop cleanly on SIGTERM or SIGINT.
 */
import { isClusterWorker, reportWorkerReady, runPrimary } from './cluster.js'
import { loadConfig, type TlsConfig } from './config/index.js'
import { allowPkcs11Login } from './keys/index.js'
import { SealedSearchError } from './errors.js'
import { flushed, logDestination } from './log/destination.js'
import { createLogger } from './log/logger.js'
import { startGateway } from './server.js'

/**
 * The curl a person pastes: with mTLS, it trusts the server's certificate file (curl accepts a
 * certificate that is not a root as an anchor) and presents a client certificate, named
 * client.crt and client.key for the partner to replace with one on TLS_CLIENT_ALLOWLIST.
 */
function curlFor(tls: TlsConfig | undefined): string {
  if (!tls) return 'curl -s'
  return `curl -s --cacert '${tls.certFile}' --cert client.crt --key client.key`
}

function banner(
  url: string,
  exampleUrl: string | undefined,
  tls: TlsConfig | undefined,
  workerPids?: number[],
): string {
  const curl = curlFor(tls)
  const lines = [
    '',
    `sealed-search is listening on ${url}`,
    `  public keys:  ${curl} ${url}/.well-known/jwks.json`,
    `  capability:   ${curl} ${url}/v2/fhir/metadata`,
  ]
  if (tls) {
    lines.push(
      '  mTLS: replace client.crt and client.key with a client certificate on TLS_CLIENT_ALLOWLIST and its key',
    )
  }
  if (workerPids) {
    lines.push(`  cluster:      ${workerPids.length} workers (${workerPids.join(', ')})`)
  }
  if (exampleUrl) {
    lines.push(
      '  example search for a seeded synthetic beneficiary (freshly encrypted; only ciphertext):',
      `  ${curl} '${exampleUrl}'`,
    )
  }
  return lines.join('\n') + '\n\n'
}

/** Run from its TypeScript sources (`npm run dev`, through tsx) rather than from dist/. */
const DEV = import.meta.url.endsWith('.ts')

const INVOCATION = DEV
  ? `usage: npm run dev              (development: the TypeScript sources through tsx, no build;
                                 production runs npm start or node dist/index.js)`
  : `usage: npm start                (from a checkout: builds dist/ first when needed)
       node dist/index.js       (production)`

const USAGE = `${INVOCATION}

Starts the gateway: FHIR R4 Patient search by encrypted MBI. Every setting is an environment
variable (README.md, "Configuration"); the first ones to know:
  HOST, PORT        where to listen (default 127.0.0.1:8080; PORT=0: any free port)
  DATABASE_URL      the PostgreSQL server; unset: the embedded database under DATA_DIR
  KEYS_DIR          the key directory (default keys)
  CLUSTER_WORKERS   worker processes sharing the port (auto: one per core; needs DATABASE_URL)
SIGTERM or SIGINT stops it (exit 0); SIGHUP reloads the key ring.

  -h, --help        this text`

/** The gateway takes no arguments but --help: a usage error is one line and exit 2. */
function commandLine(args: string[]): 'help' | 'run' {
  if (args.length === 0) return 'run'
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) return 'help'
  process.stderr.write(
    `sealed-search: unexpected argument ${JSON.stringify(args[0])}: settings are environment variables (usage: ${DEV ? 'npm run dev' : 'npm start'} -- --help)\n`,
  )
  process.exit(2)
}

async function main(): Promise<void> {
  if (commandLine(process.argv.slice(2)) === 'help') {
    process.stdout.write(USAGE + '\n')
    return
  }
  const config = loadConfig()
  const out = logDestination('stdout', { flushMs: config.server.logFlushMs })
  const logger = createLogger(config.server.logLevel, out)
  // Cluster mode: this process prepares once, forks the workers and supervises them.
  if (config.cluster.workers > 0 && !isClusterWorker()) {
    const started = await runPrimary(config, logger)
    logger.info({ url: started.url, workers: started.pids }, 'cluster listening')
    process.stderr.write(banner(started.url, started.exampleUrl, config.tls, started.pids))
    return
  }
  const worker = isClusterWorker()
  const gateway = await startGateway(config, logger, { prepared: worker })
  logger.info(
    { url: gateway.url, database: gateway.db.embedded ? 'embedded' : 'DATABASE_URL' },
    'gateway listening',
  )
  if (!worker) process.stderr.write(banner(gateway.url, gateway.exampleUrl, config.tls))

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    gateway
      .close()
      .then(() => flushed(out))
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  // SIGHUP reloads the key ring (the directory is also watched); a bad directory keeps the old ring.
  // It also lets a PKCS#11 token whose PIN was refused be tried once more (one login).
  process.on('SIGHUP', () => {
    allowPkcs11Login()
    void gateway.keys.reload('SIGHUP', { retryFailed: true })
  })
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  if (worker) reportWorkerReady(gateway, stop)
}

main().catch((error: unknown) => {
  // The gateway's own errors name the setting or file at fault; they never hold key material,
  // a secret or an MBI.
  if (error instanceof SealedSearchError) {
    process.stderr.write(`sealed-search: ${error.message}\n`)
  } else {
    const e = error as { name?: string; code?: string; message?: string }
    process.stderr.write(
      `sealed-search: start-up failed: ${e.name ?? 'Error'} ${e.code ?? ''} ${e.message ?? ''}\n`,
    )
  }
  process.exit(1)
})
