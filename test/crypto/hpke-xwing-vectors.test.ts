import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import {
  expandXWingKey,
  HpkeContext,
  HpkeError,
  keySchedule,
  setupBaseRFromSecret,
  setupBaseS,
  xwingDecap,
  xwingDeriveSeed,
  xwingPublicKey,
  xwingSuite,
} from '../../src/crypto/hpke/index.js'
import { NODE_XWING_PRIMITIVES } from '../../src/crypto/hpke/node-primitives.js'
import { xwingDecapsulator } from '../../src/keys/ring/xwing.js'
import xwing from '../vectors/hpke-xwing.json' with { type: 'json' }

const hex = hexToBytes
const implemented = xwing.vectors.filter((v) => v.kdf_id === 0x0001)
const others = xwing.vectors.filter((v) => v.kdf_id !== 0x0001)

it('has the X-Wing vectors of the working group for HKDF-SHA256 and ChaCha20-Poly1305', () => {
  expect(implemented).toHaveLength(1)
  expect(implemented[0]).toMatchObject({ mode: 0, kem_id: 0x647a, aead_id: 0x0003 })
  expect(implemented[0]!.encryptions.length).toBeGreaterThanOrEqual(10)
})

describe.each(implemented.map((v) => [v.kdf_id, v] as const))('X-Wing, kdf %i', (_, v) => {
  const suite = xwingSuite(v.kdf_id, v.aead_id)
  const nodeSuite = xwingSuite(v.kdf_id, v.aead_id, NODE_XWING_PRIMITIVES)

  it('derives skRm from ikmR (DeriveKeyPair) and pkRm from skRm', () => {
    expect(bytesToHex(xwingDeriveSeed(hex(v.ikmR)))).toBe(v.skRm)
    expect(bytesToHex(xwingPublicKey(expandXWingKey(hex(v.skRm))))).toBe(v.pkRm)
  })

  it('decapsulates enc to shared_secret in portable code', () => {
    expect(bytesToHex(xwingDecap(hex(v.enc), expandXWingKey(hex(v.skRm))))).toBe(v.shared_secret)
  })

  it('decapsulates enc to shared_secret in the gateway key (liboqs ML-KEM, node X25519)', async () => {
    const key = await xwingDecapsulator(hex(v.skRm))
    expect(bytesToHex(key.publicKey)).toBe(v.pkRm)
    expect(bytesToHex(await key.decapsulate(hex(v.enc)))).toBe(v.shared_secret)
  })

  it('encapsulates to enc and shared_secret from ikmE (the 64-byte eseed)', () => {
    const { enc } = setupBaseS(suite, hex(v.pkRm), hex(v.info), hex(v.ikmE))
    expect(bytesToHex(enc)).toBe(v.enc)
    expect(bytesToHex(suite.kem.encap(hex(v.pkRm), hex(v.ikmE)).sharedSecret)).toBe(v.shared_secret)
  })

  it('runs the key schedule to key, base_nonce and exporter_secret', () => {
    const ks = keySchedule(suite.id, suite.aead, hex(v.shared_secret), hex(v.info), suite.kdf)
    expect(bytesToHex(suite.id)).toBe(v.suite_id)
    expect(bytesToHex(ks.key)).toBe(v.key)
    expect(bytesToHex(ks.baseNonce)).toBe(v.base_nonce)
    expect(bytesToHex(ks.exporterSecret)).toBe(v.exporter_secret)
  })

  it.each([
    ['portable', suite],
    ['node', nodeSuite],
  ] as const)('opens and seals every encryptions[i] in sequence (%s primitives)', async (_, s) => {
    const opener = setupBaseRFromSecret(s, hex(v.shared_secret), hex(v.info))
    const sealer = new HpkeContext(s.aead, {
      key: hex(v.key),
      baseNonce: hex(v.base_nonce),
    })
    for (const e of v.encryptions) {
      expect(bytesToHex(await opener.open(hex(e.aad), hex(e.ct)))).toBe(e.pt)
      expect(bytesToHex(await sealer.seal(hex(e.aad), hex(e.pt)))).toBe(e.ct)
    }
  })

  it('refuses a tampered tag with OpenError', async () => {
    const e = v.encryptions[0]!
    const ct = hex(e.ct)
    ct[ct.length - 1]! ^= 1
    const opener = setupBaseRFromSecret(nodeSuite, hex(v.shared_secret), hex(v.info))
    await expect(opener.open(hex(e.aad), ct)).rejects.toMatchObject({ code: 'ERR_HPKE_OPEN' })
  })
})

describe('the X-Wing suite allowlist', () => {
  it.each(others.map((v) => [v.kdf_id, v.aead_id] as const))(
    'refuses the working group suite with kdf %i (a one-stage SHAKE KDF it does not implement)',
    (kdf, aead) => {
      expect(() => xwingSuite(kdf, aead)).toThrow(HpkeError)
    },
  )

  it.each([
    [0x0001, 0x0001],
    [0x0001, 0x0002],
    [0x0002, 0x0003],
    [0x0001, 0xffff],
  ])('refuses kdf %i with aead %i', (kdf, aead) => {
    expect(() => xwingSuite(kdf, aead)).toThrow(
      expect.objectContaining({ code: 'ERR_HPKE_SUITE_UNSUPPORTED' }),
    )
  })
})
