/**
 * Partner side: encrypt an MBI to a gateway key and print the token and the search URL.
 *   npm run encrypt -- <MBI> [--format jwe|hpke] [--jwks FILE|URL] [--alg ECDH-ES|ECDH-ES+A256KW]
 *                           [--enc A256GCM|A128GCM] [--crv P-256|X25519|X-Wing] [--ttl SECONDS] [--base URL]
 *                           [--bind-cert FILE]
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  certificateThumbprint,
  chooseKey,
  type ClientCertificate,
  encryptMbiHpke,
  encryptMbiJwe,
  fetchJwks,
  parseJwks,
  patientSearchUrl,
  type JweAlg,
  type JweEnc,
  type Jwks,
} from '@sealed-search/client'
import { baseUrl, loadConfig, type Config } from '../src/config/index.js'
import { normalizeMbi } from '../src/identifiers/mbi.js'
import { parse, run, UsageError } from './cli.js'

const USAGE = `usage: npm run encrypt -- <MBI|-> [options]

With - the MBI is read from stdin (keeps it out of the process list and shell history).
Prints the token on the first line and the search URL on the second.

options:
  --format FORMAT     jwe (default: JWE compact) or hpke (the short RFC 9180 token, docs/TOKENS.md)
  --jwks FILE|URL     the gateway's JWKS (default: the running gateway's, else <KEYS_DIR>/jwks.json)
  --alg ALG           jwe only: ECDH-ES (default) or ECDH-ES+A256KW
  --enc ENC           jwe only: A256GCM (default) or A128GCM
  --crv CURVE         encrypt to the P-256, X25519 or X-Wing key of the JWKS; X-Wing (hybrid
                      post-quantum, about 1,550 characters) implies --format hpke; hpke without
                      --crv takes the X25519 key when there is one (the shortest token)
  --ttl SECONDS       send {"mbi","iat","exp"} claims that expire after SECONDS
  --base URL          gateway base URL for the printed search URL (default: the gateway whose
                      /.well-known/jwks.json --jwks names, else from config)
  --bind-cert FILE    bind the token to this mTLS client certificate (PEM or DER): the gateway
                      opens it only over a connection that presents it (docs/TOKENS.md)
  -h, --help          this text`

const ALGS: readonly string[] = ['ECDH-ES', 'ECDH-ES+A256KW']
const ENCS: readonly string[] = ['A256GCM', 'A128GCM']
const FORMATS: readonly string[] = ['jwe', 'hpke']

async function main(): Promise<void> {
  const { values, positionals } = parse(process.argv.slice(2), {
    format: { type: 'string' },
    jwks: { type: 'string' },
    alg: { type: 'string' },
    enc: { type: 'string' },
    crv: { type: 'string' },
    ttl: { type: 'string' },
    base: { type: 'string' },
    'bind-cert': { type: 'string' },
    help: { type: 'boolean' },
  })
  if (values.help) {
    process.stdout.write(USAGE + '\n')
    return
  }
  const [arg] = positionals
  if (!arg || positionals.length !== 1) throw new UsageError('give exactly one MBI, or - for stdin')
  // `-` reads the MBI from stdin, keeping it out of the process list and shell history.
  const mbi = arg === '-' ? (await readStdin()).replace(/\r?\n$/, '') : arg
  // Never echo the value: it is a plaintext identifier.
  if (!normalizeMbi(mbi)) throw new UsageError('the input is not a well-formed MBI')
  // An X-Wing key takes HPKE tokens only: --crv X-Wing implies --format hpke.
  const format = values.format ?? (values.crv === 'X-Wing' ? 'hpke' : 'jwe')
  if (!FORMATS.includes(format)) throw new UsageError('--format must be jwe or hpke')
  if (values.crv === 'X-Wing' && format !== 'hpke') {
    throw new UsageError('--crv X-Wing takes --format hpke (an X-Wing key has no JWE algorithm)')
  }
  if (format === 'hpke' && (values.alg !== undefined || values.enc !== undefined)) {
    throw new UsageError('--alg and --enc apply to --format jwe only')
  }
  const alg = values.alg ?? 'ECDH-ES'
  const enc = values.enc ?? 'A256GCM'
  if (!ALGS.includes(alg)) throw new UsageError('--alg must be ECDH-ES or ECDH-ES+A256KW')
  if (!ENCS.includes(enc)) throw new UsageError('--enc must be A256GCM or A128GCM')
  const crv = values.crv
  if (crv !== undefined && crv !== 'P-256' && crv !== 'X25519' && crv !== 'X-Wing') {
    throw new UsageError('--crv must be P-256, X25519 or X-Wing')
  }
  let ttlSeconds: number | undefined
  if (values.ttl !== undefined) {
    ttlSeconds = Number(values.ttl)
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)
      throw new UsageError('--ttl must be a positive whole number')
  }
  const bindCertificate = await readCertificate(values['bind-cert'])

  // A gateway's JWKS URL names the gateway the search goes to, unless --base says otherwise.
  const base = values.base ?? gatewayOf(values.jwks)
  // The gateway's own settings are read only when a default needs them.
  const config = values.jwks && base ? undefined : loadConfig()
  const jwks = values.jwks ? await readJwks(values.jwks) : await defaultJwks(config!)
  // HPKE names the key by its published hpke_key_id: only keys that have one will do.
  const key = chooseKey(jwks, crv, { format: format as 'jwe' | 'hpke' })
  const ttl = {
    ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    ...(bindCertificate !== undefined ? { bindCertificate } : {}),
  }
  const token =
    format === 'hpke'
      ? await encryptMbiHpke(mbi, key, ttl)
      : await encryptMbiJwe(mbi, key, { alg: alg as JweAlg, enc: enc as JweEnc, ...ttl })
  process.stdout.write(`${token}\n${patientSearchUrl(base ?? baseUrl(config!), token)}\n`)
}

/** The gateway a JWKS URL belongs to (the URL less `/.well-known/jwks.json`), else undefined. */
function gatewayOf(source: string | undefined): string | undefined {
  return source ? /^(https?:\/\/[^?#]+?)\/\.well-known\/jwks\.json$/.exec(source)?.[1] : undefined
}

async function readJwks(source: string): Promise<Jwks> {
  return /^https?:\/\//.test(source) ? fetchJwks(source) : parseJwks(await readFile(source, 'utf8'))
}

/**
 * Public keys only, as a partner has them: the running gateway's JWKS, else the one published in
 * the key directory (`npm run keys -- publish`). Never the private key files, so no passphrase.
 */
async function defaultJwks(config: Config): Promise<Jwks> {
  const url = `${baseUrl(config)}/.well-known/jwks.json`
  try {
    return await fetchJwks(url)
  } catch {
    const file = join(config.keys.dir, 'jwks.json')
    try {
      return parseJwks(await readFile(file, 'utf8'))
    } catch {
      throw new UsageError(
        `no public keys: ${url} does not answer and ${file} is missing; start the gateway, run npm run keys -- publish, or give --jwks`,
      )
    }
  }
}

/** A client certificate file, PEM or DER, checked before anything is encrypted. */
async function readCertificate(file: string | undefined): Promise<ClientCertificate | undefined> {
  if (file === undefined) return undefined
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch {
    throw new UsageError('--bind-cert: cannot read the certificate file')
  }
  const text = bytes.toString('latin1')
  const certificate = text.trimStart().startsWith('-----') ? text : new Uint8Array(bytes)
  try {
    certificateThumbprint(certificate)
  } catch {
    throw new UsageError('--bind-cert: not a PEM or DER certificate')
  }
  return certificate
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

run(main, USAGE)
