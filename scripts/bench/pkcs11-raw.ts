/**
 * The token's own rate for `npm run bench:decrypt`: C_DeriveKey (CKM_ECDH1_DERIVE, no KDF) with
 * the key the gateway uses, called straight through pkcs11js on one session, one derivation at a
 * time, each derived object destroyed at once. The gateway's PKCS#11 path does this and more (a
 * session from its pool, the derivation on libuv's threads, reading the value); this row is what
 * the token allows, so the gateway's rate can be read as a share of it.
 */
import { createRequire } from 'node:module'
import type * as Pkcs11js from 'pkcs11js'

export interface RawTokenSettings {
  module: string
  tokenLabel: string
  pin: string
}

/** An operation that derives with `kid`'s private key and the i-th point (uncompressed SEC1). */
export function rawDerive(
  settings: RawTokenSettings,
  kid: string,
  points: Buffer[],
): (i: number) => void {
  const pk = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11js
  const p = new pk.PKCS11()
  p.load(settings.module)
  p.C_Initialize()
  const slot = p
    .C_GetSlotList(true)
    .find((s) => p.C_GetTokenInfo(s).label.trim() === settings.tokenLabel)
  if (slot === undefined) throw new Error(`no token labelled ${settings.tokenLabel}`)
  const session = p.C_OpenSession(slot, pk.CKF_SERIAL_SESSION | pk.CKF_RW_SESSION)
  p.C_Login(session, pk.CKU_USER, settings.pin)
  p.C_FindObjectsInit(session, [
    { type: pk.CKA_CLASS, value: pk.CKO_PRIVATE_KEY },
    { type: pk.CKA_ID, value: Buffer.from(kid) },
  ])
  const [handle] = p.C_FindObjects(session, 1)
  p.C_FindObjectsFinal(session)
  if (handle === undefined) throw new Error(`no private key ${kid} in the token`)
  const template: Pkcs11js.Template = [
    { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
    { type: pk.CKA_KEY_TYPE, value: pk.CKK_GENERIC_SECRET },
    { type: pk.CKA_TOKEN, value: false },
    { type: pk.CKA_SENSITIVE, value: false },
    { type: pk.CKA_EXTRACTABLE, value: true },
    { type: pk.CKA_VALUE_LEN, value: 32 },
  ]
  return (i) => {
    const mechanism = {
      mechanism: pk.CKM_ECDH1_DERIVE,
      parameter: { type: pk.CK_PARAMS_EC_DH, kdf: pk.CKD_NULL, publicData: points[i]! },
    }
    p.C_DestroyObject(session, p.C_DeriveKey(session, mechanism, handle, template))
  }
}
