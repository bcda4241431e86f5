/**
 * Key custody: `npm run keys -- <command> [options]`; `--help` after any command explains it.
 * Every command works on the key directory only: none touches the database.
 */
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig } from '../src/config/index.js'
import {
  addGeneratedKey,
  CURVES,
  doctor,
  isCurve,
  loadKeyRing,
  readManifest,
  retire,
  revoke,
  rotate,
  type Curve,
} from '../src/keys/index.js'
import { parseKeyLastUsed } from '../src/metrics/index.js'
import { parse, run, UsageError } from './cli.js'

const HELP: Record<string, string> = {
  generate: `npm run keys -- generate [--curve P-256|X25519]
  Generates a key pair and records it as active. The private JWK is written to
  <dir>/<kid>.private.jwk.json with mode 0600, or sealed with the passphrase (PBES2) to
  <dir>/<kid>.private.jwk.jwe when KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE is set.
  Prints the kid (the key's RFC 7638 SHA-256 thumbprint).`,
  list: `npm run keys -- list [--metrics URL]
  One line per key: kid, curve, state, created, notAfter, last used, file check.
  Last use is read from a running gateway's /metrics when --metrics is given.`,
  rotate: `npm run keys -- rotate [--curve P-256|X25519] [--grace DURATION] [--force]
  Adds a new active key of the curve (default: each curve that has an active key); the previous
  active key of that curve becomes retiring: no longer published, still accepted for the grace
  period (default 24h; must be longer than the JWKS cache lifetime, JWKS_MAX_AGE, unless --force).
  DURATION: a number with s, m, h or d. A running gateway picks the change up by itself.`,
  retire: `npm run keys -- retire <kid> [--force]
  Stops accepting the key. Do this once its traffic has drained to 0 (see list --metrics).
  Refuses to retire the only active key unless --force.`,
  revoke: `npm run keys -- revoke <kid>
  The compromised-key path: the key is rejected from the next request on.`,
  publish: `npm run keys -- publish [--out FILE]
  Writes the public JWKS of the active keys to FILE (default <dir>/jwks.json; - for stdout) and
  prints each key's SHA-256 thumbprint for partners to verify out of band.`,
  doctor: `npm run keys -- doctor
  Checks the directory: manifest, file permissions, passphrase, kid = thumbprint, an active key,
  retiring keys past notAfter, files the manifest does not list, a stale jwks.json.
  Exits 1 when it finds an error.`,
}

const USAGE = `usage: npm run keys -- <command> [options]

commands:
${Object.values(HELP)
  .map((h) => '  ' + h.split('\n')[0]!.replace('npm run keys -- ', ''))
  .join('\n')}

options for every command:
  --dir DIR    key directory (default: $KEYS_DIR or keys)
  --help       explain a command: npm run keys -- rotate --help`

const out = (line: string): void => void process.stdout.write(line + '\n')
const note = (line: string): void => void process.stderr.write(line + '\n')

/** "90m", "24h", "2d", "3600s" or a bare number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text)
  if (!m) throw new UsageError('--grace must be a number with s, m, h or d (e.g. 24h)')
  return (
    Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
  )
}

async function fileCheck(path: string): Promise<string> {
  try {
    const mode = (await stat(path)).mode & 0o777
    return mode & 0o077 ? `mode ${mode.toString(8)} TOO OPEN` : 'ok'
  } catch {
    return 'MISSING'
  }
}

async function lastUsed(url: string | undefined): Promise<Map<string, Date>> {
  if (!url) return new Map()
  const res = await fetch(url)
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`)
  return parseKeyLastUsed(await res.text())
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2)
  const { values, positionals } = parse(rest, {
    dir: { type: 'string' },
    curve: { type: 'string' },
    out: { type: 'string' },
    grace: { type: 'string' },
    metrics: { type: 'string' },
    force: { type: 'boolean' },
    help: { type: 'boolean' },
  })
  if (!command || command === '--help' || command === 'help') return out(USAGE)
  if (!(command in HELP)) throw new UsageError(`unknown command: ${command}`)
  if (values.help) return out(HELP[command]!)

  const config = loadConfig()
  const dir = values.dir ?? config.keys.dir
  const files = { passphrase: config.keys.passphrase }
  const curve = (): Curve | undefined => {
    if (values.curve === undefined) return undefined
    if (!isCurve(values.curve)) throw new UsageError(`--curve must be ${CURVES.join(' or ')}`)
    return values.curve
  }
  const kidArg = (): string => {
    if (positionals.length !== 1) throw new UsageError(`${command} takes one kid`)
    return positionals[0]!
  }

  switch (command) {
    case 'generate': {
      const entry = await addGeneratedKey(dir, curve() ?? 'P-256', new Date(), files)
      note(`generated ${entry.crv} key; private key: ${join(dir, entry.file)} (mode 0600)`)
      return out(entry.kid)
    }
    case 'list': {
      const manifest = await readManifest(dir)
      const used = await lastUsed(values.metrics)
      out(['kid', 'curve', 'state', 'created', 'notAfter', 'lastUsed', 'file'].join('\t'))
      for (const k of manifest.keys) {
        const seen = used.get(k.kid)?.toISOString() ?? (values.metrics ? 'never' : 'unknown')
        const check = await fileCheck(join(dir, k.file))
        out([k.kid, k.crv, k.state, k.created, k.notAfter ?? '-', seen, check].join('\t'))
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
      const manifest = await readManifest(dir)
      const wanted = curve()
      const curves = wanted
        ? [wanted]
        : [...new Set(manifest.keys.filter((k) => k.state === 'active').map((k) => k.crv))]
      if (curves.length === 0)
        throw new UsageError('no active key to rotate; use generate, or give --curve')
      for (const crv of curves) {
        const { added, retiring } = await rotate(dir, crv, grace, files)
        for (const r of retiring) note(`${r.kid} (${crv}) retiring; accepted until ${r.notAfter}`)
        note(`new active ${crv} key:`)
        out(added.kid)
      }
      note('publish the new JWKS: npm run keys -- publish')
      return
    }
    case 'retire': {
      const entry = await retire(dir, kidArg(), values.force ?? false)
      return note(`${entry.kid} retired: no longer accepted`)
    }
    case 'revoke': {
      const entry = await revoke(dir, kidArg())
      return note(`${entry.kid} revoked at ${entry.notAfter}: rejected from now on`)
    }
    case 'publish': {
      const jwks = (await loadKeyRing(dir, files)).jwks()
      const text = JSON.stringify(jwks, null, 2) + '\n'
      const target = values.out ?? join(dir, 'jwks.json')
      if (target === '-') process.stdout.write(text)
      else {
        await writeFile(target, text, { mode: 0o644 })
        note(`wrote ${jwks.keys.length} public key(s) to ${target}`)
      }
      // The kid is the RFC 7638 SHA-256 thumbprint: partners recompute and compare it.
      for (const k of jwks.keys) note(`  ${k.crv.padEnd(7)} sha256 thumbprint ${k.kid}`)
      return
    }
    case 'doctor': {
      const findings = await doctor(dir, {
        ...files,
        jwksMaxAgeSeconds: config.keys.jwksMaxAgeSeconds,
      })
      for (const f of findings) out(`${f.level.padEnd(7)} ${f.message}`)
      if (findings.some((f) => f.level === 'error')) process.exitCode = 1
      return
    }
  }
}

run(main, USAGE)
