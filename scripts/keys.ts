/**
 * Key custody: `npm run keys -- <command> [options]`; `--help` after any command explains it.
 * Every command works on the store KEY_STORE names: the key directory (dir, the default), or the
 * key ring tables of DATABASE_URL (postgres), never both. No command touches beneficiary rows.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig, type Config } from '../src/config/index.js'
import { migrate } from '../src/db/migrate.js'
import { createSql } from '../src/db/sql.js'
import {
  authenticateStore,
  closePkcs11Tokens,
  KEY_ALGORITHMS,
  doctor,
  fleetStatus,
  clockOff,
  measureSkew,
  storeNow,
  generateInStore,
  instanceStatus,
  rollbacks,
  hsmDoctor,
  hsmFindings,
  isKeyAlgorithm,
  openKeyStore,
  destroyInStore,
  hsmHoldsPrivateKey,
  privateKeyFiles,
  refusal,
  retireInStore,
  revokeInStore,
  sweepStore,
  ringFromStore,
  rotateKeys,
  stateAt,
  type Finding,
  inPublishingOrder,
  nextKeyFindings,
  roleAt,
  type HybridRingKey,
  type KeyAlgorithm,
  type KeyEntry,
  type KeyStore,
  type Pkcs11Options,
  type RingKey,
} from '../src/keys/index.js'
import { requireKeyDirectory } from '../src/keys/stores/dir-exists.js'
import { latestKeyUse, parseKeyLastUsed } from '../src/metrics/index.js'
import { parse, run, UsageError } from './cli.js'

const HELP: Record<string, string> = {
  generate: `npm run keys -- generate [--curve P-256|X25519|X-Wing] [--hsm] [--publish-delay DURATION] [--force]
  Generates a key pair. Into a ring with no published key it is active at once; otherwise it is
  pending (accepted, not published) for the publish delay, as in rotate: by default three
  KEYS_POLL_INTERVALs with KEY_STORE=postgres, none (active at once) with KEY_STORE=dir. KEY_STORE=dir: the
  private JWK is written to <dir>/<kid>.private.jwk.json with mode 0600, or sealed with the
  passphrase (PBES2) to <dir>/<kid>.private.jwk.jwe when KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE
  is set. KEY_STORE=postgres: sealed with the passphrase (required) into key_ring_keys.
  With --hsm the key pair is generated inside the PKCS#11 token (PKCS11_MODULE,
  PKCS11_TOKEN_LABEL, PKCS11_PIN or PKCS11_PIN_FILE): sensitive, never extractable, derive only,
  labelled with its kid; the store records the kid, the token and the key's CKA_ID, no private
  material (KEY_STORE=dir writes the public JWK to <dir>/<kid>.public.jwk.json).
  --curve X-Wing makes a hybrid post-quantum key (ML-KEM-768 + X25519) for HPKE tokens only: its
  private key is a 32-byte seed, sealed like every other key; it is published in the AKP form
  (docs/TOKENS.md). A PKCS#11 token cannot hold one (--hsm is refused: no X-Wing mechanism).
  Prints the kid (the key's RFC 7638 SHA-256 thumbprint).`,
  list: `npm run keys -- list [--metrics URL[,URL...]]
  One line per key: kid, curve, state, created, notAfter, publishAt, last used, key check
  (a PKCS#11 key: pkcs11, its token, and whether doctor's checks of it pass), role (a published
  key: current, the one partners encrypt to, or next, published to take over if it is revoked).
  A pending key's publishAt is when every gateway publishes it. Last use is read from a running
  gateway's /metrics when --metrics is given; with several (each instance of a fleet), the latest
  use across them.`,
  rotate: `npm run keys -- rotate [--curve P-256|X25519|X-Wing] [--hsm] [--grace DURATION] [--publish-delay DURATION] [--force]
  Adds a new key of the curve (default: each curve that has an active key) as pending: every
  gateway accepts it as soon as it has loaded it, none publishes it before the publish delay has
  passed (default three KEYS_POLL_INTERVALs; must be longer than two unless --force). Then it is
  active, and the previous active key of the curve is retiring: no longer published, still
  accepted for the grace period (default 24h; must be longer than the JWKS cache lifetime,
  JWKS_MAX_AGE, unless --force). DURATION: a number with s, m, h or d; --grace at most
  366d, --publish-delay at most 7d (more is a usage error, exit 2). Running gateways pick
  the change up by themselves. The new key is made in the PKCS#11 token when the curve's active
  key is there, or with --hsm.`,
  retire: `npm run keys -- retire <kid> [--force] [--destroy-after DURATION]
  Stops accepting the key. Do this once its traffic has drained to 0 (see list --metrics).
  Refuses to retire the only active key unless --force. With --destroy-after (e.g. 30d), records
  when the key is due to be destroyed: npm run keys -- sweep destroys it then. Without it,
  KEYS_DESTROY_AFTER (seconds; 0, the default: no schedule) is the ring's default.`,
  destroy: `npm run keys -- destroy <kid>
  Removes a retired or revoked key's private key from every place it is held: the key file
  (overwritten, then unlinked), the sealed value in PostgreSQL (in the transaction that records
  the state destroyed and its time), the private key object in the PKCS#11 token
  (C_DestroyObject). Its public record stays in the ring, so its kid and hpkeKeyId are never
  reused; a token for it is refused as for an unknown kid. Refuses a pending, active or retiring
  key, naming its state. Logged tokens for the key can then no longer be decrypted by anyone.`,
  sweep: `npm run keys -- sweep
  Destroys every retired or revoked key whose destroy time (retire --destroy-after) has come, as
  destroy does; prints each kid. Nothing due: nothing is written. Safe to run from cron on every
  host: a change is one transaction (postgres) or holds the directory's lock.`,
  revoke: `npm run keys -- revoke <kid> [--publish-delay DURATION]
  The compromised-key path: the key is rejected from the next request on. The curve's next key
  (published and accepted everywhere already) is its current key at once. One KEYS_POLL_INTERVAL
  later (every gateway has applied the revocation by then) a new next key is made and staged,
  pending for the publish delay (as rotate's), and its kid printed on stdout.`,
  authenticate: `npm run keys -- authenticate
  Writes the ring's MAC (a key derived from KEYS_PASSPHRASE) for the ring as it is now, after
  every sealed key it accepts opened with the passphrase. Needed once for a ring written before
  rings carried a MAC, and after a change made outside these commands (gateways refuse such a ring
  with ERR_KEYS_RING_MAC): check it with list and doctor first, since this makes it authentic.
  Prints the ring's new generation.`,
  publish: `npm run keys -- publish [--out FILE]
  Writes the public JWKS of the active keys to FILE (default <KEYS_DIR or --dir>/jwks.json, on
  either store; - for stdout) and prints each key's SHA-256 thumbprint for partners to verify
  out of band.`,
  doctor: `npm run keys -- doctor [--gateways URL[,URL...]]
  Checks the store. Every store: a destroyed key's private material must be gone (its key file,
  its sealed value, its token object); each published curve's current and next key (a warning
  for a curve without a next key: revoking its current key would leave it without one). dir: manifest, file permissions, passphrase, kid = thumbprint, an active key,
  retiring keys past notAfter, files the manifest does not list, a stale jwks.json. postgres:
  every accepted key opens with the passphrase, kid = thumbprint, an active key, the stored
  ring version matches the keys, and this host's clock against the database's (a warning beyond
  KEYS_MAX_CLOCK_SKEW; every time a command records comes from the database). Both: a PKCS#11 key
  is in its token with the kid's public key, sensitive and never extractable. With --gateways
  (every running instance): the ring generation each has applied (/health/ready), and an error
  naming each instance that applied a later generation than the store's: the ring was rolled back
  to an earlier authentic state, which those instances refuse; an instance that does not answer is
  a warning. Exits 1 when it finds an error.`,
  status: `npm run keys -- status --gateways URL[,URL...]
  Asks each gateway for the key ring version it serves (/health/ready) and its JWKS, and prints
  them beside the store's, with the ring generation each has applied and the store's, and each
  gateway's clock minus the database's (KEY_STORE=postgres). Exits 0 when every gateway is ready,
  serves the store's version, publishes a key of every curve the ring publishes and has a clock
  within KEYS_MAX_CLOCK_SKEW (converged), 1 when not; a gateway that applied a later generation
  than the store's is named as a rollback (exit 1).`,
}

const USAGE = `usage: npm run keys -- <command> [options]

commands:
${Object.values(HELP)
  .map((h) => '  ' + h.split('\n')[0]!.replace('npm run keys -- ', ''))
  .join('\n')}

options for every command:
  --dir DIR    key directory, for KEY_STORE=dir (default: $KEYS_DIR or keys)
  -h, --help   explain a command: npm run keys -- rotate --help

The store is KEY_STORE's: dir (default) or postgres (the key ring tables of DATABASE_URL).`

const out = (line: string): void => void process.stdout.write(line + '\n')
const note = (line: string): void => void process.stderr.write(line + '\n')

/** The longest --grace and --publish-delay: a year, and a week. */
export const DURATION_MAX_SECONDS: Record<string, number> = {
  '--grace': 366 * 86_400,
  '--publish-delay': 7 * 86_400,
}

/** "90m", "24h", "2d", "3600s" or a bare number of seconds, at most the option's maximum. */
export function parseDuration(text: string, option = '--grace'): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text)
  if (!m) throw new UsageError(`${option} must be a number with s, m, h or d (e.g. 24h)`)
  const seconds =
    Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
  const max = DURATION_MAX_SECONDS[option] ?? DURATION_MAX_SECONDS['--grace']!
  if (seconds > max) throw new UsageError(`${option} must be at most ${max / 86_400}d`)
  return seconds
}

async function fileCheck(path: string): Promise<string> {
  try {
    const mode = (await stat(path)).mode & 0o777
    return mode & 0o077 ? `mode ${mode.toString(8)} TOO OPEN` : 'ok'
  } catch {
    return 'MISSING'
  }
}

/** The list column of a PKCS#11 key: its token, and whether doctor would object. */
async function tokenCheck(entry: KeyEntry, pkcs11: Pkcs11Options | undefined): Promise<string> {
  const where = `pkcs11 ${entry.pkcs11?.token ?? '?'}`
  if (entry.state === 'retired' || entry.state === 'revoked') return where
  const [error] = await hsmFindings(entry, pkcs11)
  return error === undefined ? `${where} ok` : `${where} ${error}`
}

/**
 * Last use per kid across every gateway of `--metrics URL[,URL...]` (each instance's /metrics):
 * the latest of their times, so a fleet needs one call, not one per gateway.
 */
async function lastUsed(urls: string | undefined): Promise<Map<string, Date>> {
  if (!urls) return new Map()
  const list = urls
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
  if (list.length === 0) throw new UsageError('--metrics needs a URL (or several, comma-separated)')
  const texts = await Promise.all(
    list.map(async (url) => {
      const res = await fetch(url).catch((error: unknown) => {
        throw new Error(
          `${url}: ${(error as { cause?: { code?: string } }).cause?.code ?? 'unreachable'}`,
        )
      })
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`)
      return res.text()
    }),
  )
  return latestKeyUse(texts.map(parseKeyLastUsed))
}

/** Commands that read a key directory that must already exist (generate and rotate make one). */
const READS_DIR = new Set(['list', 'publish', 'doctor', 'retire', 'revoke', 'status'])

/** The store of KEY_STORE; the postgres one after the migrations (its tables may be new). */
async function openStore(config: Config, dir: string): Promise<KeyStore> {
  if (config.keys.store === 'postgres') {
    const sql = createSql({
      url: config.db.url!,
      max: 1,
      ...(config.db.schema ? { searchPath: config.db.schema } : {}),
    })
    try {
      if (config.db.schema) {
        await sql`create schema if not exists ${sql(config.db.schema)}`
      }
      await migrate(sql)
    } finally {
      await sql.end()
    }
  }
  return openKeyStore(
    {
      kind: config.keys.store,
      dir,
      passphrase: config.keys.passphrase,
      pkcs11: config.keys.pkcs11,
      databaseUrl: config.db.url,
      databaseSchema: config.db.schema,
    },
    { listen: false },
  )
}

/** Every accepted key opened and checked; errors name the key. */
async function loadRing(
  store: KeyStore,
): Promise<{ keys: (RingKey | HybridRingKey)[]; errors: string[] }> {
  const errors: string[] = []
  const ring = await ringFromStore(await store.read(), new Map(), (e) =>
    errors.push((e as Error).message),
  )
  return { keys: [...ring.keys, ...ring.hybridKeys], errors }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2)
  if (command === '--help' || command === '-h' || command === 'help') return out(USAGE)
  if (!command) throw new UsageError(`give a command: ${Object.keys(HELP).join(', ')}`)
  if (command.startsWith('-')) throw new UsageError('the command comes first, then its options')
  if (!(command in HELP)) throw new UsageError(`unknown command: ${command}`)
  const { values, positionals } = parse(rest, {
    dir: { type: 'string' },
    curve: { type: 'string' },
    out: { type: 'string' },
    grace: { type: 'string' },
    'publish-delay': { type: 'string' },
    'destroy-after': { type: 'string' },
    metrics: { type: 'string' },
    gateways: { type: 'string' },
    force: { type: 'boolean' },
    hsm: { type: 'boolean' },
  })
  if (values.help) return out(HELP[command]!)

  const config = loadConfig()
  const dir = values.dir ?? config.keys.dir
  if (values.dir !== undefined && config.keys.store !== 'dir') {
    throw new UsageError('--dir is for KEY_STORE=dir; KEY_STORE=postgres keeps no key files')
  }
  if (config.keys.store === 'dir' && READS_DIR.has(command)) await requireKeyDirectory(dir)
  const curve = (): KeyAlgorithm | undefined => {
    if (values.curve === undefined) return undefined
    if (!isKeyAlgorithm(values.curve)) {
      throw new UsageError(`--curve must be ${KEY_ALGORITHMS.join(', ')}`)
    }
    return values.curve
  }
  const kidArg = (): string => {
    if (positionals.length !== 1) throw new UsageError(`${command} takes one kid`)
    return positionals[0]!
  }
  // Longer than two poll intervals: every healthy gateway has loaded a key before it is published.
  // `generate` on one host's directory publishes at once unless given a delay.
  const publishDelay = (fallback = 3 * config.keys.pollIntervalSeconds): number => {
    const poll = config.keys.pollIntervalSeconds
    const delay =
      values['publish-delay'] === undefined
        ? fallback
        : parseDuration(values['publish-delay'], '--publish-delay')
    if (delay === 0 && values['publish-delay'] === undefined) return 0
    if (delay <= 2 * poll && !values.force) {
      throw new UsageError(
        `--publish-delay must be longer than two KEYS_POLL_INTERVALs (${2 * poll} s), or a gateway may publish a key another one does not accept yet; --force to override`,
      )
    }
    return delay
  }

  const store = await openStore(config, dir)
  try {
    switch (command) {
      case 'generate': {
        const entry = await generateInStore(
          store,
          curve() ?? 'P-256',
          publishDelay(store.kind === 'dir' ? 0 : undefined),
          undefined,
          { hsm: values.hsm ?? false },
        )
        const where =
          entry.backend === 'pkcs11'
            ? `private key in token ${entry.pkcs11!.token}, never extractable; ${entry.file ? `public key: ${join(dir, entry.file)}` : store.location}`
            : entry.file
              ? `private key: ${join(dir, entry.file)} (mode 0600)`
              : store.location
        note(`generated ${entry.crv} key, ${describe(entry)}; ${where}`)
        return out(entry.kid)
      }
      case 'list': {
        const { entries, invalid } = await store.read()
        const used = await lastUsed(values.metrics)
        const now = await storeNow(store)
        const head = ['kid', 'curve', 'state', 'created', 'notAfter', 'publishAt', 'lastUsed']
        out([...head, store.kind === 'dir' ? 'file' : 'key', 'role'].join('\t'))
        for (const k of entries) {
          const seen = used.get(k.kid)?.toISOString() ?? (values.metrics ? 'never' : 'unknown')
          const check =
            k.state === 'destroyed'
              ? `destroyed ${k.destroyedAt}`
              : k.backend === 'pkcs11'
                ? await tokenCheck(k, config.keys.pkcs11)
                : k.file
                  ? await fileCheck(join(dir, k.file))
                  : 'sealed'
          const publishAt = k.publishAt ?? k.retireAt ?? '-'
          out(
            [
              k.kid,
              k.crv,
              stateAt(k, now),
              k.created,
              k.notAfter ?? '-',
              publishAt,
              seen,
              check,
              roleAt(entries, k, now) ?? '-',
            ].join('\t'),
          )
        }
        // Left out of the ring, accepted nowhere; `revoke <kid>` still marks one revoked.
        for (const bad of invalid) {
          out([bad.kid ?? '?', '-', bad.revoked ? 'revoked' : 'invalid', bad.why].join('\t'))
        }
        return
      }
      case 'rotate': {
        const grace = parseDuration(values.grace ?? '24h')
        if (grace <= config.keys.jwksMaxAgeSeconds && !values.force) {
          throw new UsageError(
            `--grace must be longer than the JWKS cache lifetime (${config.keys.jwksMaxAgeSeconds} s), or partners with a cached JWKS fail; --force to override`,
          )
        }
        const wanted = curve()
        const staged = await rotateKeys(store, {
          ...(wanted ? { curves: [wanted] } : {}),
          graceSeconds: grace,
          publishDelaySeconds: publishDelay(),
          hsm: values.hsm ?? false,
        })
        for (const { added, retiring } of staged) {
          for (const r of retiring) {
            note(
              `${r.kid} (${r.crv}) published until ${r.retireAt ?? 'now'}; accepted until ${r.notAfter}`,
            )
          }
          note(`new ${added.crv} key, ${describe(added)}:`)
          out(added.kid)
        }
        if (store.kind === 'dir') note('for partners who pin: npm run keys -- publish')
        return
      }
      case 'retire': {
        // The ring's default (KEYS_DESTROY_AFTER) unless given; 0: no schedule.
        const after =
          values['destroy-after'] === undefined
            ? config.keys.destroyAfterSeconds
            : parseDuration(values['destroy-after'], '--destroy-after')
        const entry = await retireInStore(
          store,
          kidArg(),
          values.force ?? false,
          undefined, // the store's time (the database's now() for postgres)
          after || undefined,
        )
        note(`${entry.kid} retired: no longer accepted`)
        if (entry.destroyAt) note(`${entry.kid} is to be destroyed at ${entry.destroyAt} (sweep)`)
        return
      }
      case 'destroy': {
        const entry = await destroyInStore(store, kidArg())
        return note(`${entry.kid} destroyed at ${entry.destroyedAt}: its private key is gone`)
      }
      case 'sweep': {
        const destroyed = await sweepStore(store)
        for (const entry of destroyed) out(entry.kid)
        return note(`${destroyed.length} key(s) destroyed`)
      }
      case 'authenticate': {
        const generation = await authenticateStore(store)
        return out(`ring generation ${generation} authenticated`)
      }
      case 'revoke': {
        const kid = kidArg()
        const revoked = await revokeInStore(store, kid, undefined, {
          publishDelaySeconds: publishDelay(),
          afterMs: config.keys.pollIntervalSeconds * 1000,
        })
        note(`${revoked.kid} revoked at ${revoked.notAfter}: rejected from now on`)
        const { entries } = await store.read()
        const now = await storeNow(store)
        const crv = (revoked.next ?? entries.find((e) => e.kid === kid))?.crv
        const current = inPublishingOrder(entries, now).find((e) => e.crv === crv)
        if (current) note(`${current.kid} (${current.crv}) is the current key, published`)
        else if (crv) note(`no ${crv} key is published until a new one is`)
        if (revoked.next) {
          note(`new next ${revoked.next.crv} key, ${describe(revoked.next)}:`)
          out(revoked.next.kid)
        }
        return
      }
      case 'publish': {
        const { keys, errors } = await loadRing(store)
        if (errors[0]) throw new Error(errors[0])
        const now = await storeNow(store)
        const jwks = { keys: inPublishingOrder(keys, now).map((k) => k.publicJwk) }
        const text = JSON.stringify(jwks, null, 2) + '\n'
        // <KEYS_DIR>/jwks.json on both stores: where encrypt --jwks and partners' tools look.
        const target = values.out ?? join(dir, 'jwks.json')
        if (target === '-') process.stdout.write(text)
        else {
          if (values.out === undefined) await mkdir(dir, { recursive: true, mode: 0o700 })
          await writeFile(target, text, { mode: 0o644 })
          note(`wrote ${jwks.keys.length} public key(s) to ${target}`)
        }
        // The kid is the RFC 7638 SHA-256 thumbprint: partners recompute and compare it.
        for (const k of jwks.keys) {
          note(`  ${('crv' in k ? k.crv : k.alg).padEnd(7)} sha256 thumbprint ${k.kid}`)
        }
        return
      }
      case 'doctor': {
        const findings =
          store.kind === 'dir'
            ? await doctor(dir, {
                passphrase: config.keys.passphrase,
                jwksMaxAgeSeconds: config.keys.jwksMaxAgeSeconds,
                pkcs11: config.keys.pkcs11,
              })
            : await storeDoctor(store, config.keys.pkcs11, config.keys.maxClockSkewSeconds)
        findings.unshift(...(await authenticityFindings(store)))
        if (values.gateways !== undefined) {
          findings.unshift(...(await gatewayFindings(store, gatewayUrls(values.gateways))))
        }
        findings.push(...nextKeyFindings((await store.read()).entries, await storeNow(store)))
        const leftovers = await destroyedLeftovers(store, dir, config.keys.pkcs11)
        const all = [...leftovers, ...findings.filter((f) => !leftovers.length || f.level !== 'ok')]
        for (const f of all) out(`${f.level.padEnd(7)} ${f.message}`)
        if (all.some((f) => f.level === 'error')) process.exitCode = 1
        return
      }
      case 'status': {
        if (!values.gateways) throw new UsageError('status needs --gateways URL[,URL...]')
        const urls = gatewayUrls(values.gateways)
        const stored = await store.read()
        const now = await storeNow(store)
        const curves = [
          ...new Set(stored.entries.filter((k) => stateAt(k, now) === 'active').map((k) => k.crv)),
        ].sort()
        const maxSkew = config.keys.maxClockSkewSeconds
        const status = await fleetStatus(urls, await store.version(), curves, {
          maxSkewSeconds: maxSkew,
          storeGeneration: stored.generation,
        })
        out(`store\t${status.storeVersion}\tgeneration ${stored.generation}`)
        for (const i of status.instances) {
          const missing = i.missingCurves.length
            ? `\tpublishes no ${i.missingCurves.join(', ')} key`
            : ''
          const skew =
            i.clockSkewSeconds === undefined
              ? ''
              : `\tclock ${signed(i.clockSkewSeconds)}${clockOff(i, maxSkew) ? ` (beyond KEYS_MAX_CLOCK_SKEW ${maxSkew} s: publishes no pending key)` : ''}`
          const generation = `generation ${i.generation ?? '-'}`
          out(`${i.url}\t${i.version ?? '-'}\t${generation}\tready ${i.ready}${missing}${skew}`)
        }
        for (const r of status.rollbacks) out(`${r.level}\t${r.message}`)
        out(status.converged ? 'converged' : 'not converged')
        if (!status.converged) process.exitCode = 1
        return
      }
    }
  } finally {
    await store.close()
    closePkcs11Tokens()
  }
}

/** Seconds with their sign: +30.012 s. */
const signed = (seconds: number) => `${seconds >= 0 ? '+' : ''}${seconds.toFixed(3)} s`

function describe(entry: KeyEntry): string {
  return entry.state === 'pending' ? `pending until ${entry.publishAt}` : entry.state
}

/** `--gateways URL[,URL...]`: at least one URL. */
function gatewayUrls(list: string): string[] {
  const urls = list
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
  if (urls.length === 0)
    throw new UsageError('--gateways needs a URL (or several, comma-separated)')
  return urls
}

/**
 * What the running instances saw: a generation later than the store's names a rollback to an
 * earlier authentic ring, which only an instance that applied the later one can tell.
 */
async function gatewayFindings(store: KeyStore, urls: readonly string[]): Promise<Finding[]> {
  const { generation } = await store.read()
  const instances = await Promise.all(urls.map((u) => instanceStatus(u)))
  return instances.flatMap((i): Finding[] => {
    if (i.generation === undefined) {
      const why = typeof i.ready === 'string' ? i.ready : `ready ${i.ready}, no generation`
      const message = `${i.url}: not asked (${why}): a rollback it saw is not named`
      return [{ level: 'warning', message }]
    }
    const rolledBack = rollbacks(generation, [i])
    if (rolledBack.length > 0) return rolledBack
    return [{ level: 'ok', message: `${i.url}: applied generation ${i.generation}` }]
  })
}

/** Whether the ring's MAC holds under the passphrase (every store with one). */
async function authenticityFindings(store: KeyStore) {
  const stored = await store.read()
  const { authenticity, generation } = stored
  if (authenticity === 'not-required') return []
  if (authenticity === 'authentic') {
    return [{ level: 'ok' as const, message: `ring generation ${generation}: MAC verified` }]
  }
  return [{ level: 'error' as const, message: refusal(stored, store.location)!.message }]
}

/** The postgres store's checks: what `doctor` checks of a directory that applies to a table. */
async function storeDoctor(
  store: KeyStore,
  pkcs11: Pkcs11Options | undefined,
  maxSkewSeconds: number,
) {
  const out: { level: 'error' | 'warning' | 'ok'; message: string }[] = []
  out.push(await clockFinding(store, maxSkewSeconds))
  const stored = await store.read()
  const { keys, errors } = await loadRing(store)
  for (const message of errors) out.push({ level: 'error', message })
  if ((await store.version()) !== stored.version) {
    out.push({
      level: 'error',
      message: 'key_ring.version does not match the keys: a change bypassed npm run keys',
    })
  }
  const now = await storeNow(store)
  out.push(...(await hsmDoctor(stored.entries, pkcs11, now)))
  const active = keys.filter((k) => stateAt(k, now) === 'active')
  if (active.length === 0)
    out.push({ level: 'error', message: 'no active key: partners have nothing to encrypt to' })
  for (const k of stored.entries.filter((e) => e.backend !== 'pkcs11')) {
    if (stateAt(k, now) === 'retiring' && k.notAfter && now >= new Date(k.notAfter)) {
      out.push({
        level: 'warning',
        message: `${k.kid}: retiring key past its notAfter; run: npm run keys -- retire ${k.kid}`,
      })
    }
  }
  if (!out.some((f) => f.level === 'error')) {
    out.push({
      level: 'ok',
      message: `${stored.entries.length} key(s), ${active.length} active, ring version ${stored.version}`,
    })
  }
  return out
}

/**
 * This host's clock against the database's: the commands take their times from the database,
 * but a custodian's clock that far off is a sign the fleet's hosts may be too.
 */
async function clockFinding(store: KeyStore, maxSkewSeconds: number) {
  const { skewSeconds } = await measureSkew(() => storeNow(store))
  const message = `clock: this host is ${signed(skewSeconds)} from the database's (KEYS_MAX_CLOCK_SKEW ${maxSkewSeconds} s)`
  if (Math.abs(skewSeconds) <= maxSkewSeconds) return { level: 'ok' as const, message }
  return {
    level: 'warning' as const,
    message: `${message}: key times come from the database, but a gateway this far off publishes no pending key; fix NTP`,
  }
}

/** A destroyed key's private material still found: its key files, its token object. */
async function destroyedLeftovers(
  store: KeyStore,
  dir: string,
  pkcs11: Pkcs11Options | undefined,
): Promise<{ level: 'error'; message: string }[]> {
  const found: { level: 'error'; message: string }[] = []
  for (const k of (await store.read()).entries.filter((e) => e.state === 'destroyed')) {
    const files = store.kind === 'dir' ? privateKeyFiles(dir, k) : []
    for (const file of files) {
      if ((await fileCheck(file)) !== 'MISSING') {
        found.push({ level: 'error', message: `${k.kid} is destroyed but ${file} still exists` })
      }
    }
    if (k.backend === 'pkcs11') {
      const held = await hsmHoldsPrivateKey(k, pkcs11).catch(() => undefined)
      if (held !== false) {
        found.push({
          level: 'error',
          message: `${k.kid} is destroyed but token ${k.pkcs11?.token} ${held ? 'still holds its private key' : 'could not be checked'}`,
        })
      }
    }
  }
  return found
}

run(main, USAGE)
