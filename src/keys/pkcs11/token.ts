import { p256 } from '@noble/curves/nist.js'
import type { Handle, PKCS11, Template } from 'pkcs11js'
import { AgreementError } from '../ring/agreement.js'
import { KeyStoreError } from '../errors.js'
import type { Curve } from '../jwk.js'
import { checkLoginAllowed, loginResult } from './login-guard.js'
import { ckr, CKK_EC_MONTGOMERY, EC_PARAMS, loadPkcs11js, type Pkcs11Lib } from './module.js'

/** The P-256 base point, uncompressed: a valid peer point whose Z is public (readiness probe). */
const P256_BASE = p256.Point.BASE.toBytes(false)

/** What the gateway needs to reach a token: library, token label, user PIN, session count. */
export interface Pkcs11Options {
  module: string
  tokenLabel: string
  pin: string
  sessions: number
}

/** What a token reports about a private key: the attributes that say it cannot leave. */
export interface PrivateKeyFacts {
  sensitive: boolean
  alwaysSensitive: boolean
  extractable: boolean
  neverExtractable: boolean
  derive: boolean
  token: boolean
}

/** The EC point of CKA_EC_POINT: a DER OCTET STRING around the point (PKCS#11 §2.3.3), or bare. */
function unwrapPoint(value: Buffer): Uint8Array {
  if (value[0] === 0x04 && value.length >= 2) {
    // Short-form DER length (points here are at most 65 bytes).
    if (value[1] === value.length - 2 && (value.length - 2 === 65 || value.length - 2 === 32)) {
      return new Uint8Array(value.subarray(2))
    }
  }
  return new Uint8Array(value)
}

/**
 * One PKCS#11 token, opened once per process (per library and label): the library initialised
 * with OS locking, a user login, and a pool of sessions used one call at a time each, so calls
 * from concurrent requests never share a session (PKCS#11 §5.1: a session is single-threaded).
 * Any error of the library while computing makes the token `broken`: the next call reopens it,
 * and until it can, every call fails with ERR_KEY_UNAVAILABLE.
 */
export class Pkcs11Token {
  readonly #lib: Pkcs11Lib
  readonly #options: Pkcs11Options
  readonly #id: string
  #p: PKCS11 | undefined
  #idle: Handle[] = []
  #waiting: ((session: Handle) => void)[] = []
  #keys = new Map<string, Handle>()
  /** The derived secret's attributes (CKM_ECDH1_DERIVE's template), the same for every call. */
  #secretTemplate: Template | undefined
  #opening: Promise<void> | undefined

  private constructor(lib: Pkcs11Lib, options: Pkcs11Options, id: string) {
    this.#lib = lib
    this.#options = options
    this.#id = id
  }

  static #open = new Map<string, Pkcs11Token>()

  /** The process's token for these options; opened (and logged in) on first use. */
  static async get(options: Pkcs11Options): Promise<Pkcs11Token> {
    const id = `${options.module}\0${options.tokenLabel}`
    let token = Pkcs11Token.#open.get(id)
    if (!token) {
      token = new Pkcs11Token(loadPkcs11js(), options, id)
      Pkcs11Token.#open.set(id, token)
    }
    await token.#ready()
    return token
  }

  /** Closes every token this process opened (tests, and the end of a custody command). */
  static closeAll(): void {
    for (const token of Pkcs11Token.#open.values()) token.#close()
    Pkcs11Token.#open.clear()
  }

  get label(): string {
    return this.#options.tokenLabel
  }

  #ready(): Promise<void> {
    if (this.#p) return Promise.resolve()
    // A PIN the token refused is not tried again (login-guard.ts): not even the library is loaded.
    const { tokenLabel, pin } = this.#options
    checkLoginAllowed(this.#id, tokenLabel, pin)
    this.#opening ??= this.#connect().finally(() => (this.#opening = undefined))
    return this.#opening
  }

  async #connect(): Promise<void> {
    const pk = this.#lib
    const p = new pk.PKCS11()
    try {
      p.load(this.#options.module)
      // Sessions run on libuv's threads (the *Async calls): the library must lock for itself.
      p.C_Initialize({ flags: pk.CKF_OS_LOCKING_OK })
    } catch (cause) {
      throw new KeyStoreError(
        'ERR_KEYS_HSM_UNAVAILABLE',
        `PKCS11_MODULE ${this.#options.module}: cannot load or initialise (${ckr(cause)})`,
        { cause },
      )
    }
    try {
      const slot = p
        .C_GetSlotList(true)
        .find((s) => p.C_GetTokenInfo(s).label.trim() === this.#options.tokenLabel)
      if (slot === undefined) {
        throw new KeyStoreError(
          'ERR_KEYS_HSM_UNAVAILABLE',
          `PKCS11_TOKEN_LABEL ${this.#options.tokenLabel}: no such token`,
        )
      }
      const flags = pk.CKF_SERIAL_SESSION | pk.CKF_RW_SESSION
      const sessions = Array.from({ length: this.#options.sessions }, () =>
        p.C_OpenSession(slot, flags),
      )
      // One login serves every session of the application (PKCS#11 §5.6).
      this.#login(p, sessions[0]!)
      this.#p = p
      this.#idle = sessions
      this.#keys.clear()
      for (const waiter of this.#waiting.splice(0)) waiter(this.#idle.pop()!)
    } catch (error) {
      try {
        p.C_Finalize()
      } catch {
        // already unusable
      }
      if (error instanceof KeyStoreError) throw error
      throw new KeyStoreError(
        'ERR_KEYS_HSM_UNAVAILABLE',
        `token ${this.#options.tokenLabel}: ${ckr(error)}`,
        { cause: error },
      )
    }
  }

  /** C_Login as the user, counted; a refused PIN is remembered so it is never retried blindly. */
  #login(p: PKCS11, session: Handle): void {
    const { tokenLabel, pin } = this.#options
    let result = 'ok'
    let failure: unknown
    try {
      p.C_Login(session, this.#lib.CKU_USER, pin)
    } catch (cause) {
      result = ckr(cause)
      failure = cause
    }
    const refused = loginResult(this.#id, tokenLabel, pin, result)
    if (refused) throw refused
    if (result !== 'ok' && result !== 'CKR_USER_ALREADY_LOGGED_IN') {
      throw new KeyStoreError(
        'ERR_KEYS_HSM_UNAVAILABLE',
        `token ${tokenLabel}: login refused (${result}); check PKCS11_PIN`,
        { cause: failure },
      )
    }
  }

  #close(): void {
    const p = this.#p
    this.#p = undefined
    this.#idle = []
    this.#keys.clear()
    if (!p) return
    try {
      p.C_Finalize()
    } catch {
      // a token that vanished cannot be closed; its library state goes with C_Finalize anyway
    }
  }

  /** Runs `use` with a session of its own; the next waiter gets the session afterwards. */
  async #withSession<T>(use: (p: PKCS11, session: Handle) => Promise<T> | T): Promise<T> {
    await this.#ready()
    const p = this.#p!
    const session =
      this.#idle.pop() ?? (await new Promise<Handle>((give) => this.#waiting.push(give)))
    try {
      return await use(p, session)
    } finally {
      // A session of a token that was reopened meanwhile is not returned to the new pool.
      if (this.#p === p) {
        const next = this.#waiting.shift()
        if (next) next(session)
        else this.#idle.push(session)
      }
    }
  }

  #find(p: PKCS11, session: Handle, template: Template): Handle[] {
    p.C_FindObjectsInit(session, template)
    try {
      return p.C_FindObjects(session, 2)
    } finally {
      p.C_FindObjectsFinal(session)
    }
  }

  #keyTemplate(kid: string, cls: number): Template {
    const pk = this.#lib
    return [
      { type: pk.CKA_CLASS, value: cls },
      { type: pk.CKA_ID, value: Buffer.from(kid) },
    ]
  }

  /** The private key object whose CKA_ID is the kid, or undefined; exactly one or none. */
  async #privateKey(kid: string): Promise<Handle | undefined> {
    const cached = this.#keys.get(kid)
    if (cached) return cached
    return this.#withSession((p, session) => {
      const found = this.#find(p, session, this.#keyTemplate(kid, this.#lib.CKO_PRIVATE_KEY))
      if (found.length > 1) {
        throw new KeyStoreError('ERR_KEYS_HSM_KEY', `token holds two private keys with id ${kid}`)
      }
      if (found[0]) this.#keys.set(kid, found[0])
      return found[0]
    })
  }

  /** Destroys every private key object whose CKA_ID is `kid` (C_DestroyObject); how many. */
  async destroyPrivateKey(kid: string): Promise<number> {
    const count = await this.#withSession((p, session) => {
      const found = this.#find(p, session, this.#keyTemplate(kid, this.#lib.CKO_PRIVATE_KEY))
      for (const handle of found) p.C_DestroyObject(session, handle)
      return found.length
    })
    this.#keys.delete(kid)
    return count
  }

  /** Whether the token holds a private key for `kid`. */
  async hasKey(kid: string): Promise<boolean> {
    return (await this.#privateKey(kid)) !== undefined
  }

  /** The public point of `kid`, from its public key object: 0x04 || x || y, or the X25519 u. */
  async publicPoint(kid: string): Promise<Uint8Array> {
    return this.#withSession((p, session) => {
      const [handle] = this.#find(p, session, this.#keyTemplate(kid, this.#lib.CKO_PUBLIC_KEY))
      if (handle === undefined) {
        throw new KeyStoreError('ERR_KEYS_HSM_KEY', `token holds no public key with id ${kid}`)
      }
      const [point] = p.C_GetAttributeValue(session, handle, [{ type: this.#lib.CKA_EC_POINT }])
      return unwrapPoint(point!.value as Buffer)
    })
  }

  /** The attributes of `kid`'s private key that say whether it can leave the token. */
  async privateKeyFacts(kid: string): Promise<PrivateKeyFacts> {
    const handle = await this.#privateKey(kid)
    if (handle === undefined) {
      throw new KeyStoreError('ERR_KEYS_HSM_KEY', `token holds no private key with id ${kid}`)
    }
    const pk = this.#lib
    return this.#withSession((p, session) => {
      const types = [
        pk.CKA_SENSITIVE,
        pk.CKA_ALWAYS_SENSITIVE,
        pk.CKA_EXTRACTABLE,
        pk.CKA_NEVER_EXTRACTABLE,
        pk.CKA_DERIVE,
        pk.CKA_TOKEN,
      ]
      const values = p
        .C_GetAttributeValue(
          session,
          handle,
          types.map((type) => ({ type })),
        )
        .map((a) => (a.value as Buffer)[0] === 1)
      const [sensitive, alwaysSensitive, extractable, neverExtractable, derive, token] = values
      return {
        sensitive: sensitive!,
        alwaysSensitive: alwaysSensitive!,
        extractable: extractable!,
        neverExtractable: neverExtractable!,
        derive: derive!,
        token: token!,
      }
    })
  }

  /** Whether the token can make key pairs on `crv` and derive with them (ECDH1_DERIVE). */
  async supports(crv: Curve): Promise<boolean> {
    const pk = this.#lib
    return this.#withSession((p, session) => {
      const { slotID } = p.C_GetSessionInfo(session)
      const mechanisms = p.C_GetMechanismList(slotID)
      const gen = crv === 'P-256' ? pk.CKM_EC_KEY_PAIR_GEN : 0x1056
      return mechanisms.includes(gen) && mechanisms.includes(pk.CKM_ECDH1_DERIVE)
    })
  }

  /**
   * Generates a key pair inside the token: the private key sensitive, never extractable, usable
   * only to derive, kept on the token. Label and CKA_ID are set to `name` (the caller renames
   * them to the kid once the public key gives it). Returns the public point.
   */
  async generate(crv: Curve, name: string): Promise<Uint8Array> {
    const pk = this.#lib
    const id = Buffer.from(name)
    const common: Template = [
      { type: pk.CKA_TOKEN, value: true },
      { type: pk.CKA_LABEL, value: name },
      { type: pk.CKA_ID, value: id },
    ]
    const keyType = crv === 'P-256' ? pk.CKK_EC : CKK_EC_MONTGOMERY
    const publicTemplate: Template = [
      ...common,
      { type: pk.CKA_CLASS, value: pk.CKO_PUBLIC_KEY },
      { type: pk.CKA_KEY_TYPE, value: keyType },
      { type: pk.CKA_EC_PARAMS, value: EC_PARAMS[crv] },
      { type: pk.CKA_DERIVE, value: true },
    ]
    const privateTemplate: Template = [
      ...common,
      { type: pk.CKA_CLASS, value: pk.CKO_PRIVATE_KEY },
      { type: pk.CKA_KEY_TYPE, value: keyType },
      { type: pk.CKA_PRIVATE, value: true },
      { type: pk.CKA_SENSITIVE, value: true },
      { type: pk.CKA_EXTRACTABLE, value: false },
      { type: pk.CKA_DERIVE, value: true },
      { type: pk.CKA_SIGN, value: false },
      { type: pk.CKA_DECRYPT, value: false },
      { type: pk.CKA_UNWRAP, value: false },
    ]
    const mechanism = crv === 'P-256' ? pk.CKM_EC_KEY_PAIR_GEN : 0x1056
    await this.#withSession((p, session) =>
      p.C_GenerateKeyPairAsync(session, { mechanism }, publicTemplate, privateTemplate),
    )
    return this.publicPoint(name)
  }

  /** Sets label and CKA_ID of both halves of the key pair `from` to `to` (the kid). */
  async rename(from: string, to: string): Promise<void> {
    const pk = this.#lib
    await this.#withSession((p, session) => {
      for (const cls of [pk.CKO_PRIVATE_KEY, pk.CKO_PUBLIC_KEY]) {
        for (const handle of this.#find(p, session, this.#keyTemplate(from, cls))) {
          p.C_SetAttributeValue(session, handle, [
            { type: pk.CKA_LABEL, value: to },
            { type: pk.CKA_ID, value: Buffer.from(to) },
          ])
        }
      }
    })
    this.#keys.delete(from)
  }

  /**
   * Z = ECDH(private key of `kid`, point) with CKM_ECDH1_DERIVE and no KDF (CKD_NULL), computed
   * in the token. The result is a session object of the generic-secret type, extractable so its
   * value (Z, 32 bytes) can be read once, then destroyed. The caller has validated the point;
   * any failure here is the token's, reported as ERR_KEY_UNAVAILABLE.
   */
  async derive(kid: string, point: Uint8Array): Promise<Uint8Array> {
    const pk = this.#lib
    // The handle is looked up once per kid; a cached one is used without a turn of the loop.
    let handle: Handle | undefined = this.#keys.get(kid)
    if (handle === undefined) {
      try {
        handle = await this.#privateKey(kid)
      } catch (cause) {
        throw this.#unavailable(cause)
      }
    }
    if (handle === undefined) throw new AgreementError('ERR_KEY_UNAVAILABLE')
    const mechanism = {
      mechanism: pk.CKM_ECDH1_DERIVE,
      parameter: {
        type: pk.CK_PARAMS_EC_DH,
        kdf: pk.CKD_NULL,
        publicData: Buffer.from(point.buffer, point.byteOffset, point.byteLength),
      },
    }
    const template = (this.#secretTemplate ??= [
      { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
      { type: pk.CKA_KEY_TYPE, value: pk.CKK_GENERIC_SECRET },
      { type: pk.CKA_TOKEN, value: false },
      { type: pk.CKA_SENSITIVE, value: false },
      { type: pk.CKA_EXTRACTABLE, value: true },
      { type: pk.CKA_VALUE_LEN, value: 32 },
    ])
    try {
      return await this.#withSession(async (p, session) => {
        const secret = await p.C_DeriveKeyAsync(session, mechanism, handle, template)
        try {
          const [value] = p.C_GetAttributeValue(session, secret, [{ type: pk.CKA_VALUE }])
          const z = new Uint8Array(value!.value as Buffer)
          ;(value!.value as Buffer).fill(0)
          return z
        } finally {
          p.C_DestroyObject(session, secret)
        }
      })
    } catch (cause) {
      throw this.#unavailable(cause)
    }
  }

  /**
   * Whether the token computes with `kid` now: one derive against the curve's base point (Z is
   * then the key's own public x, nothing secret), as a request would. For readiness; never throws.
   */
  async canDerive(kid: string, crv: Curve): Promise<boolean> {
    if (crv !== 'P-256') return (await this.#privateKey(kid).catch(() => undefined)) !== undefined
    try {
      ;(await this.derive(kid, P256_BASE)).fill(0)
      return true
    } catch {
      return false
    }
  }

  /** A failure of the library or token: reopen on the next call; the request gets a 503. */
  #unavailable(cause: unknown): AgreementError {
    if (cause instanceof AgreementError) return cause
    this.#close()
    return new AgreementError('ERR_KEY_UNAVAILABLE', { cause })
  }
}
