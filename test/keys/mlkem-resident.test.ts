/**
 * The ML-KEM-768 decapsulation key resident in liboqs's WebAssembly memory: the same shared
 * secrets as an independent implementation, and a key that leaves the ring (or whose follower
 * closes) overwritten, so that it computes nothing more.
 */
import { randomBytes } from 'node:crypto'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { encryptMbiHpke, type GatewayJwk } from '@sealed-search/client'
import { describe, expect, it } from 'vitest'
import { openToken } from '../../src/crypto/token.js'
import { generateInStore, revokeInStore } from '../../src/keys/custody/custody.js'
import { residentMlKem768Key } from '../../src/keys/ring/mlkem-resident.js'
import { forgetOpenedKeys, ringFromStore } from '../../src/keys/ring/follow.js'
import { xwingDecapsulator } from '../../src/keys/ring/xwing.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { capturingLogger } from '../support/app.js'
import { followDir } from '../support/following.js'
import { tempDir } from '../support/keys.js'

const MBI = '1S00E00AA00'

describe('a resident ML-KEM-768 key', () => {
  it('decapsulates as @noble/post-quantum does, tampered ciphertexts included', async () => {
    const pairs = Array.from({ length: 3 }, () => ml_kem768.keygen(randomBytes(64)))
    const keys = await Promise.all(pairs.map((p) => residentMlKem768Key(p.secretKey)))
    for (const [i, { publicKey, secretKey }] of pairs.entries()) {
      for (let n = 0; n < 4; n++) {
        const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey)
        expect([...keys[i]!.decapsulate(cipherText)]).toEqual([...sharedSecret])
        // FIPS 203 §6.3 implicit rejection: a flipped bit gives the same pseudorandom answer.
        cipherText[n * 100]! ^= 1
        expect([...keys[i]!.decapsulate(cipherText)]).toEqual([
          ...ml_kem768.decapsulate(cipherText, secretKey),
        ])
      }
    }
    for (const key of keys) key.destroy()
  })

  it('refuses a key or a ciphertext of the wrong length, and computes nothing once destroyed', async () => {
    await expect(residentMlKem768Key(new Uint8Array(2399))).rejects.toThrow(RangeError)
    const { publicKey, secretKey } = ml_kem768.keygen(randomBytes(64))
    const key = await residentMlKem768Key(secretKey)
    expect(() => key.decapsulate(new Uint8Array(1087))).toThrow(RangeError)
    const { cipherText } = ml_kem768.encapsulate(publicKey)
    key.destroy()
    key.destroy()
    expect(() => key.decapsulate(cipherText)).toThrow(/destroyed/)
  })

  it('makes a destroyed X-Wing key a store failure (ERR_KEY_UNAVAILABLE), not a token failure', async () => {
    const key = await xwingDecapsulator(randomBytes(32))
    key.destroy()
    await expect(key.decapsulate(new Uint8Array(1120))).rejects.toMatchObject({
      code: 'ERR_KEY_UNAVAILABLE',
    })
  })

  it('is destroyed when its key leaves the ring, and when the follower closes', async () => {
    const dir = await tempDir('sealed-keys-')
    const store = dirKeyStore(dir, {})
    const first = await generateInStore(store, 'X-Wing', 0)
    const second = await generateInStore(store, 'X-Wing', 0)
    await store.close()
    const { logger } = capturingLogger()
    const source = await followDir(dir, { logger })
    const before = source.current()
    const tokenFor = async (kid: string) => {
      const jwk = before.hybridKeys.find((k) => k.kid === kid)!.publicJwk
      return encryptMbiHpke(MBI, jwk as unknown as GatewayJwk)
    }
    const [a, b] = [await tokenFor(first.kid), await tokenFor(second.kid)]
    expect((await openToken(a, before, new Date())).mbi).toBe(MBI)

    const writer = dirKeyStore(dir, {})
    await revokeInStore(writer, first.kid)
    await writer.close()
    expect(await source.reload('test')).toBe(true)
    // The old ring still names the revoked key, but its decapsulation key is gone.
    await expect(openToken(a, before, new Date())).rejects.toMatchObject({
      code: 'ERR_KEY_UNAVAILABLE',
    })
    await expect(openToken(a, source.current(), new Date())).rejects.toMatchObject({
      code: 'ERR_TOKEN_KID_UNKNOWN',
    })
    expect((await openToken(b, source.current(), new Date())).mbi).toBe(MBI)

    const last = source.current()
    await source.stop()
    await expect(openToken(b, last, new Date())).rejects.toMatchObject({
      code: 'ERR_KEY_UNAVAILABLE',
    })
  })

  it('is destroyed by forgetOpenedKeys, as the cluster primary does once it has checked the ring', async () => {
    const dir = await tempDir('sealed-keys-')
    const store = dirKeyStore(dir, {})
    await generateInStore(store, 'X-Wing', 0)
    const opened: Parameters<typeof ringFromStore>[1] = new Map()
    const ring = await ringFromStore(await store.read(), opened)
    await store.close()
    const [key] = ring.hybridKeys
    const token = await encryptMbiHpke(MBI, key!.publicJwk as unknown as GatewayJwk)
    expect((await openToken(token, ring, new Date())).mbi).toBe(MBI)
    forgetOpenedKeys(opened)
    expect(opened.size).toBe(0)
    await expect(openToken(token, ring, new Date())).rejects.toMatchObject({
      code: 'ERR_KEY_UNAVAILABLE',
    })
  })
})
