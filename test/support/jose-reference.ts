/**
 * The reference decrypt path for differential tests and the decrypt bench: the gateway's own
 * checks (checkJwe), then jose's compactDecrypt with the private key read from the key file by
 * the test itself. The gateway has no such path: its keys only `agree` (src/keys/ring/agreement.ts).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { compactDecrypt } from 'jose'
import type { Sender } from '../../src/crypto/binding.js'
import type { IdentifierKind } from '../../src/crypto/claims.js'
import { TokenError } from '../../src/crypto/errors.js'
import { checkJwe, opened, type OpenedJwe } from '../../src/crypto/jwe.js'
import type { KeyResolver } from '../../src/keys/ring/keyring.js'
import { readManifest } from '../../src/keys/stores/manifest.js'
import { readPrivateKeyFile } from '../../src/keys/stores/dir-files.js'

/** A private key by kid, for the reference path only. */
export type PrivateKeys = (kid: string) => KeyObject

/** The private keys of a key directory, read from their files (test fixtures). */
export async function privateKeysOf(dir: string): Promise<PrivateKeys> {
  const byKid = new Map<string, KeyObject>()
  for (const entry of (await readManifest(dir)).keys) {
    const jwk = await readPrivateKeyFile(dir, entry)
    // An X-Wing key (AKP) has no JWE algorithm: jose never decrypts with it.
    if (jwk.kty === 'AKP') continue
    byKid.set(entry.kid, createPrivateKey({ key: { ...jwk }, format: 'jwk' }))
  }
  return (kid) => {
    const key = byKid.get(kid)
    if (!key) throw new Error(`no private key for ${kid}`)
    return key
  }
}

/** The same checks as openJwe, decrypted by jose's compactDecrypt. */
export async function openJweWithJose<K extends IdentifierKind = 'mbi'>(
  token: string,
  resolve: KeyResolver,
  now: Date,
  privateKeys: PrivateKeys,
  kind: K = 'mbi' as K,
  sender?: Sender,
): Promise<OpenedJwe<K>> {
  const { key, jwe } = checkJwe(token, resolve, now, sender)
  let plaintext: Uint8Array
  try {
    const result = await compactDecrypt(token, privateKeys(key.kid), {
      keyManagementAlgorithms: [jwe.alg],
      contentEncryptionAlgorithms: [jwe.enc],
    })
    plaintext = result.plaintext
  } catch (cause) {
    throw new TokenError('ERR_TOKEN_DECRYPTION_FAILED', { cause })
  }
  return opened(plaintext, now, kind, key, jwe)
}
