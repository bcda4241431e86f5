/**
 * One measurement of `npm run bench:decrypt`, in a process of its own so that no other row's JIT
 * state or garbage weighs on it (as in production, where the gateway runs only its own path).
 * The parent sends the tokens once, then asks for timed windows in turn; the meter answers each
 * with the operations done, the wall-clock time and the CPU time of this process.
 */
import {
  createECDH,
  createPublicKey,
  diffieHellman,
  type JsonWebKey as NodeJsonWebKey,
} from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { createMLKEM768 } from '@oqs/liboqs-js'
import { expandXWingKey } from '../../src/crypto/hpke/xwing.js'
import { openToken } from '../../src/crypto/token.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { ringFromStore } from '../../src/keys/ring/follow.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { openJweWithJose, privateKeysOf } from '../../test/support/jose-reference.js'
import { rawDerive } from './pkcs11-raw.js'

/**
 * gateway: openToken; jose: openJweWithJose; ecdh: the fastest node:crypto agreement alone
 * (P-256: ECDH.computeSecret on the point's bytes, the scalar set once; X25519: diffieHellman on
 * imported epks); token: the PKCS#11 token's own C_DeriveKey alone (scripts/bench/pkcs11-raw.ts).
 */
export type MeterKind = 'gateway' | 'jose' | 'ecdh' | 'token' | 'mlkem-liboqs' | 'mlkem-noble'

export interface MeterSetup {
  dir: string
  kind: MeterKind
  kid: string
  tokens: string[]
  mbis: string[]
  /** The token of a PKCS#11 key (and the SoftHSM2 configuration file it needs). */
  pkcs11?: { module: string; tokenLabel: string; pin: string; sessions: number; conf: string }
}

export interface MeterWindow {
  ops: number
  ms: number
  cpuMicros: number
}

export type ToMeter = { setup: MeterSetup } | { run: number } | { exit: true }
export type FromMeter = { ready: true } | { window: MeterWindow } | { error: string }

const NOW = new Date()

function epkOf(token: string): NodeJsonWebKey {
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))
  return header.epk
}

/** The uncompressed SEC1 point of a P-256 token's epk. */
function pointOf(token: string): Buffer {
  const { x, y } = epkOf(token)
  return Buffer.concat([Buffer.of(4), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')])
}

/**
 * ML-KEM-768 decapsulation alone, on the ML-KEM half of each hybrid token's enc: liboqs in
 * WebAssembly (the gateway's choice) or @noble/post-quantum (pure JS), to show why.
 */
async function mlkemOp(setup: MeterSetup): Promise<(i: number) => unknown> {
  const ring = await loadKeyRing(setup.dir)
  const file = ring.hybridKeys.find((k) => k.kid === setup.kid)
  if (!file) throw new Error('no X-Wing key in the bench ring')
  const manifest = JSON.parse(await readFile(join(setup.dir, 'manifest.json'), 'utf8')) as {
    keys: { kid: string; file: string }[]
  }
  const entry = manifest.keys.find((k) => k.kid === setup.kid)!
  const jwk = JSON.parse(await readFile(join(setup.dir, entry.file), 'utf8')) as { priv: string }
  const { decapsulationKeyM } = expandXWingKey(new Uint8Array(Buffer.from(jwk.priv, 'base64url')))
  const cts = setup.tokens.map(
    (t) => new Uint8Array(Buffer.from(t, 'base64url').subarray(9, 9 + 1088)),
  )
  if (setup.kind === 'mlkem-noble') {
    return (i) => ml_kem768.decapsulate(cts[i]!, decapsulationKeyM)
  }
  const kem = await createMLKEM768()
  return (i) => kem.decapsulate(cts[i]!, decapsulationKeyM)
}

/** The operation to time, after checking that every token opens to its MBI. */
async function prepare(setup: MeterSetup): Promise<(i: number) => unknown> {
  if (setup.kind === 'token') {
    if (!setup.pkcs11) throw new Error('the token row needs a PKCS#11 token')
    return rawDerive(setup.pkcs11, setup.kid, setup.tokens.map(pointOf))
  }
  if (setup.kind === 'mlkem-liboqs' || setup.kind === 'mlkem-noble') return mlkemOp(setup)
  // A key in a token is opened as the gateway opens it: from its store's entry.
  const ring = setup.pkcs11
    ? await ringFromStore(
        await dirKeyStore(setup.dir, { pkcs11: setup.pkcs11 }).read(),
        new Map(),
        (error) => {
          throw error
        },
      )
    : await loadKeyRing(setup.dir)
  const { tokens, mbis } = setup
  // The bench's reference rows read the private key from its file, as a test fixture would.
  const privateKeys = setup.pkcs11 ? () => undefined as never : await privateKeysOf(setup.dir)
  if (setup.kind === 'ecdh') {
    const privateKey = privateKeys(setup.kid)
    if (privateKey.asymmetricKeyType === 'ec') {
      const ecdh = createECDH('prime256v1')
      ecdh.setPrivateKey(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'))
      const points = tokens.map(pointOf)
      return (i) => ecdh.computeSecret(points[i]!)
    }
    const publics = tokens.map((t) => createPublicKey({ key: epkOf(t), format: 'jwk' }))
    return (i) => diffieHellman({ privateKey, publicKey: publics[i]! })
  }
  const open =
    setup.kind === 'gateway'
      ? openToken
      : (token: string, r: typeof ring, now: Date) =>
          openJweWithJose(token, r.resolve, now, privateKeys)
  for (const [i, token] of tokens.entries()) {
    if ((await open(token, ring, NOW)).mbi !== mbis[i]) throw new Error('a token opened wrong')
  }
  return (i) => open(tokens[i]!, ring, NOW)
}

let op: ((i: number) => unknown) | undefined
let count = 1
let next = 0
let warm = false

/** One at a time: a promise is awaited before the next call, a synchronous call is not. */
async function call(): Promise<void> {
  const result = op!(next++ % count)
  if (result instanceof Promise) await result
}

async function window(ms: number): Promise<MeterWindow> {
  if (!warm) {
    // Warm-up (JIT) before the first window: half of it, at most 250 ms, at least 50 calls.
    const until = performance.now() + Math.min(ms / 2, 250)
    for (let i = 0; i < 50 || performance.now() < until; i++) await call()
    warm = true
  }
  let ops = 0
  const cpu = process.cpuUsage()
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    for (let k = 0; k < 8; k++, ops++) await call()
    now = performance.now()
  }
  const used = process.cpuUsage(cpu)
  return { ops, ms: now - start, cpuMicros: used.user + used.system }
}

function send(message: FromMeter): void {
  process.send!(message)
}

process.on('message', (message: ToMeter) => {
  void (async () => {
    try {
      if ('setup' in message) {
        op = await prepare(message.setup)
        count = message.setup.tokens.length
        send({ ready: true })
      } else if ('run' in message) {
        send({ window: await window(message.run) })
      } else {
        process.exit(0)
      }
    } catch (error) {
      send({ error: (error as Error).message })
    }
  })()
})
process.on('disconnect', () => process.exit(0))
