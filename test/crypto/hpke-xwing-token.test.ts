/**
 * Hybrid HPKE tokens (KEM X-Wing, docs/TOKENS.md): made by the partner library and by an
 * independent implementation (@hpke/core with @hpke/hybridkem-x-wing), opened by the gateway, and
 * the other way round; sender binding (version 3); and the hostile inputs of the hybrid KEM.
 */
import { createHash } from 'node:crypto'
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305'
import { CipherSuite, HkdfSha256 } from '@hpke/core'
import { XWing } from '@hpke/hybridkem-x-wing'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiHpke } from '@sealed-search/client'
import { TokenError, type TokenErrorCode } from '../../src/crypto/errors.js'
import { MAX_HYBRID_TOKEN_LENGTH } from '../../src/crypto/hpke-hybrid.js'
import { encodeHeader, HEADER_LENGTH, tokenInfo } from '../../src/crypto/hpke/framing.js'
import { openToken } from '../../src/crypto/token.js'
import type { HybridRingKey } from '../../src/keys/ring/hybrid-key.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { HYBRID_KEY_ID, threeKeyRing } from '../support/hybrid-keys.js'

const MBI = '1S00E00AA00'
const NOW = new Date()
const KEM_XWING = 0x647a
const NENC = 1120

let ring: KeyRing
let key: HybridRingKey
let seed: Uint8Array

beforeAll(async () => {
  ;({ ring, hybrid: key, seed } = await threeKeyRing())
})

const bytesOf = (token: string) => new Uint8Array(Buffer.from(token, 'base64url'))
const tokenOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')
const kidBytes = (kid: string) => new Uint8Array(Buffer.from(kid, 'base64url'))
const partnerSuite = () =>
  new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() })

async function refusal(token: string, certThumbprint?: Uint8Array): Promise<TokenErrorCode> {
  try {
    await openToken(token, ring, NOW, 'mbi', certThumbprint ? { certThumbprint } : undefined)
  } catch (error) {
    if (!(error instanceof TokenError)) throw error
    return error.code
  }
  throw new Error('the token was accepted')
}

describe('hybrid (X-Wing) HPKE tokens', () => {
  it('publishes the key in the AKP form with its hpke_key_id', () => {
    const published = ring.publishedJwks(NOW).keys.find((k) => k.kid === key.kid)
    expect(published).toEqual({
      kty: 'AKP',
      alg: 'X-Wing',
      pub: expect.stringMatching(/^[A-Za-z0-9_-]{1622}$/),
      kid: key.kid,
      use: 'enc',
      hpke_key_id: HYBRID_KEY_ID,
    })
  })

  it('opens a partner-library token carrying the bare MBI, about 1,550 characters long', async () => {
    const token = await encryptMbiHpke(MBI, key.publicJwk)
    // header 9 + enc 1,120 + MBI 11 + tag 16 = 1,156 bytes.
    expect(token).toHaveLength(1542)
    process.stdout.write(`hybrid token for a bare MBI: ${token.length} characters\n`)
    expect(bytesOf(token).subarray(0, HEADER_LENGTH)).toEqual(
      encodeHeader({ keyId: HYBRID_KEY_ID, kemId: KEM_XWING, kdfId: 1, aeadId: 3 }),
    )
    const opened = await openToken(token, ring, NOW)
    expect(opened).toMatchObject({ mbi: MBI, kid: key.kid, format: 'hpke', kemId: KEM_XWING })
  })

  it('opens a token carrying {"mbi","iat","exp"} and enforces exp', async () => {
    const token = await encryptMbiHpke(MBI, key.publicJwk, { ttlSeconds: 60 })
    expect(token.length).toBeLessThanOrEqual(MAX_HYBRID_TOKEN_LENGTH)
    expect((await openToken(token, ring, NOW)).mbi).toBe(MBI)
    await expect(openToken(token, ring, new Date(NOW.getTime() + 3_600_000))).rejects.toMatchObject(
      { code: 'ERR_TOKEN_EXPIRED' },
    )
  })

  it('opens a token sealed by an independent implementation (@hpke/hybridkem-x-wing)', async () => {
    const suite = partnerSuite()
    const recipientPublicKey = await suite.kem.deserializePublicKey(
      new Uint8Array(Buffer.from(key.publicJwk.pub, 'base64url')).buffer,
    )
    const header = encodeHeader({ keyId: HYBRID_KEY_ID, kemId: KEM_XWING, kdfId: 1, aeadId: 3 })
    const info = tokenInfo(header, kidBytes(key.kid))
    const sender = await suite.createSenderContext({ recipientPublicKey, info: info.buffer })
    const ct = new Uint8Array(await sender.seal(utf8ToBytes(MBI).buffer, header.slice().buffer))
    const token = tokenOf(concatBytes(header, new Uint8Array(sender.enc), ct))
    expect((await openToken(token, ring, NOW)).mbi).toBe(MBI)
  })

  it('makes tokens that the independent implementation opens with the private key', async () => {
    const suite = partnerSuite()
    const recipientKey = await suite.kem.deserializePrivateKey(seed.slice().buffer)
    const token = bytesOf(await encryptMbiHpke(MBI, key.publicJwk))
    const header = token.subarray(0, HEADER_LENGTH)
    const recipient = await suite.createRecipientContext({
      recipientKey,
      enc: token.slice(HEADER_LENGTH, HEADER_LENGTH + NENC).buffer,
      info: tokenInfo(header, kidBytes(key.kid)).buffer,
    })
    const pt = await recipient.open(token.slice(HEADER_LENGTH + NENC).buffer, header.slice().buffer)
    expect(new TextDecoder().decode(pt)).toBe(MBI)
  })

  describe('sender binding (version 3)', () => {
    const certA = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x0a)
    const certB = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x0b)
    const sha = async (der: Uint8Array) => new Uint8Array(createHash('sha256').update(der).digest())

    it('opens over the certificate it is bound to, and only there', async () => {
      const token = await encryptMbiHpke(MBI, key.publicJwk, { bindCertificate: certA })
      expect(bytesOf(token)[0]).toBe(0x03)
      expect(token).toHaveLength(1542)
      const opened = await openToken(token, ring, NOW, 'mbi', { certThumbprint: await sha(certA) })
      expect(opened).toMatchObject({ mbi: MBI, binding: 'bound' })
      expect(await refusal(token, await sha(certB))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
      expect(await refusal(token)).toBe('ERR_TOKEN_SENDER_MISMATCH')
    })
  })
})

describe('hybrid tokens that are refused', () => {
  let good: Uint8Array
  beforeAll(async () => {
    good = bytesOf(await encryptMbiHpke(MBI, key.publicJwk))
  })
  const body = () => good.subarray(HEADER_LENGTH)
  const header = () => good.subarray(0, HEADER_LENGTH)
  const flipped = (at: number) => {
    const out = good.slice()
    out[at]! ^= 0x01
    return tokenOf(out)
  }

  it('refuses a truncated enc (the body too short for enc and a tag)', async () => {
    const cut = concatBytes(header(), body().subarray(0, NENC - 1))
    expect(await refusal(tokenOf(cut))).toBe('ERR_TOKEN_MALFORMED')
  })

  it('refuses an oversized enc with the uniform failure', async () => {
    const long = concatBytes(
      header(),
      body().subarray(0, NENC),
      Uint8Array.of(0),
      body().subarray(NENC),
    )
    expect(await refusal(tokenOf(long))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it('refuses a ciphertext of the X25519 KEM’s length under the X-Wing header', async () => {
    const x25519 = ring.keys.find((k) => k.crv === 'X25519')!
    const classic = bytesOf(await encryptMbiHpke(MBI, x25519.publicJwk))
    const forged = concatBytes(header(), classic.subarray(HEADER_LENGTH))
    expect(await refusal(tokenOf(forged))).toBe('ERR_TOKEN_MALFORMED')
  })

  it.each([
    ['AES-128-GCM', 1, 1],
    ['a one-stage SHAKE KDF', 0x11, 3],
    ['an unassigned AEAD', 1, 0xffff],
  ])('refuses the wrong suite (%s)', async (_, kdfId, aeadId) => {
    const h = encodeHeader({ keyId: HYBRID_KEY_ID, kemId: KEM_XWING, kdfId, aeadId })
    expect(await refusal(tokenOf(concatBytes(h, body())))).toBe('ERR_TOKEN_SUITE_UNSUPPORTED')
  })

  it('refuses a bit flip in the ML-KEM half of the encapsulation (implicit rejection)', async () => {
    expect(await refusal(flipped(HEADER_LENGTH + 500))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it('refuses a bit flip in the X25519 half of the encapsulation', async () => {
    expect(await refusal(flipped(HEADER_LENGTH + 1088 + 5))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it.each([
    ['zero', new Uint8Array(32)],
    ['one', Uint8Array.of(1, ...new Uint8Array(31))],
    [
      'a point of order 8',
      Uint8Array.from(
        Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex'),
      ),
    ],
  ])('refuses an X25519 small-order point (%s) inside X-Wing', async (_, point) => {
    const forged = good.slice()
    forged.set(point, HEADER_LENGTH + 1088)
    expect(await refusal(tokenOf(forged))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it('refuses a bit flip in the AEAD ciphertext', async () => {
    expect(await refusal(flipped(good.length - 1))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
    expect(await refusal(flipped(HEADER_LENGTH + NENC))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it('refuses an X-Wing header naming a classic key, and a classic header naming the X-Wing key', async () => {
    const x25519 = ring.keys.find((k) => k.crv === 'X25519')!
    const toClassic = encodeHeader({
      keyId: x25519.hpkeKeyId!,
      kemId: KEM_XWING,
      kdfId: 1,
      aeadId: 3,
    })
    expect(await refusal(tokenOf(concatBytes(toClassic, body())))).toBe('ERR_TOKEN_KEM_MISMATCH')
    const classic = bytesOf(await encryptMbiHpke(MBI, x25519.publicJwk))
    const toHybrid = encodeHeader({ keyId: HYBRID_KEY_ID, kemId: 0x0020, kdfId: 1, aeadId: 1 })
    const forged = concatBytes(toHybrid, classic.subarray(HEADER_LENGTH))
    expect(await refusal(tokenOf(forged))).toBe('ERR_TOKEN_KEM_MISMATCH')
  })

  it('refuses a token naming an id no key has', async () => {
    const h = encodeHeader({ keyId: 4000, kemId: KEM_XWING, kdfId: 1, aeadId: 3 })
    expect(await refusal(tokenOf(concatBytes(h, body())))).toBe('ERR_TOKEN_KID_UNKNOWN')
  })

  it('refuses a hybrid token over its length cap before decoding it', async () => {
    const long = tokenOf(header()) + 'A'.repeat(MAX_HYBRID_TOKEN_LENGTH)
    expect(await refusal(long)).toBe('ERR_TOKEN_TOO_LONG')
  })

  it('opens nothing for a ring without hybrid keys', async () => {
    const classicOnly = { resolve: ring.resolve }
    await expect(openToken(tokenOf(good), classicOnly, NOW)).rejects.toMatchObject({
      code: 'ERR_TOKEN_KID_UNKNOWN',
    })
  })
})
