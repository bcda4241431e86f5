/**
 * Key custody: `npm run keys -- <command>`.
 *   generate [--curve P-256|X25519]   new active key; prints its kid (RFC 7638 thumbprint)
 *   publish [--out FILE]              writes the public JWKS (default keys/jwks.json) and prints
 *                                     each key's fingerprint for out-of-band checks
 *   list                              one line per key: kid, curve, state, created, notAfter
 * Common option: --dir DIR (default: $KEYS_DIR or keys).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig } from '../src/config/index.js'
import { isCurve, loadKeyRing, readManifest, addGeneratedKey } from '../src/keys/index.js'
import { parse, run, UsageError } from './cli.js'

const USAGE = `usage: npm run keys -- <command> [options]

commands:
  generate [--curve P-256|X25519]  generate a key pair; the private JWK is written to the key
                                   directory with mode 0600; prints the kid
  publish [--out FILE]             write the public JWKS of the active keys (default
                                   <dir>/jwks.json; --out - prints it) and print fingerprints
  list                             list keys: kid, curve, state, created, notAfter

options:
  --dir DIR                        key directory (default: $KEYS_DIR or keys)
  --help                           this text`

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2)
  const { values } = parse(rest, {
    dir: { type: 'string' },
    curve: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  })
  if (!command || command === '--help' || values.help) {
    process.stdout.write(USAGE + '\n')
    return
  }
  const dir = values.dir ?? loadConfig().keysDir
  switch (command) {
    case 'generate': {
      const crv = values.curve ?? 'P-256'
      if (!isCurve(crv)) throw new UsageError('--curve must be P-256 or X25519')
      const entry = await addGeneratedKey(dir, crv)
      process.stderr.write(
        `generated ${crv} key; private JWK: ${join(dir, entry.file)} (mode 0600)\n`,
      )
      process.stdout.write(entry.kid + '\n')
      return
    }
    case 'publish': {
      const ring = await loadKeyRing(dir)
      const jwks = ring.jwks()
      const text = JSON.stringify(jwks, null, 2) + '\n'
      const out = values.out ?? join(dir, 'jwks.json')
      if (out === '-') process.stdout.write(text)
      else {
        await writeFile(out, text, { mode: 0o644 })
        process.stderr.write(`wrote ${jwks.keys.length} public key(s) to ${out}\n`)
      }
      // The kid is the RFC 7638 SHA-256 thumbprint: partners compare it out of band.
      for (const k of jwks.keys)
        process.stderr.write(`  ${k.crv.padEnd(7)} sha256 thumbprint ${k.kid}\n`)
      return
    }
    case 'list': {
      const manifest = await readManifest(dir)
      for (const k of manifest.keys) {
        process.stdout.write(
          [k.kid, k.crv, k.state, k.created, k.notAfter ?? '-'].join('\t') + '\n',
        )
      }
      return
    }
    default:
      throw new UsageError(`unknown command: ${command}`)
  }
}

run(main, USAGE)
