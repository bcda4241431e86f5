import {
  MLKEM768_CIPHERTEXT_LENGTH,
  MLKEM768_DECAPSULATION_KEY_LENGTH,
} from '../../crypto/hpke/xwing.js'

/**
 * ML-KEM-768 decapsulation (FIPS 203) in liboqs compiled to WebAssembly, with the decapsulation
 * key resident in the module's memory. @oqs/liboqs-js's own API takes the 2,400-byte key as an
 * argument, copies it into WebAssembly memory for every call and frees it without wiping it; here
 * it is copied in once, when the key is opened, and overwritten when the key is destroyed.
 * The module is the one the package ships (dist/ml-kem-768.min.js), loaded once per process.
 */

/** The part of the Emscripten module this file uses (liboqs's C API). */
interface OqsModule {
  HEAPU8: Uint8Array
  _malloc(size: number): number
  _free(pointer: number): void
  _OQS_init(): void
  _OQS_KEM_new(name: number): number
  _OQS_KEM_decaps(kem: number, sharedSecret: number, ciphertext: number, secretKey: number): number
  lengthBytesUTF8(text: string): number
  stringToUTF8(text: string, pointer: number, size: number): void
}

const SHARED_SECRET_LENGTH = 32

let loading: Promise<{ module: OqsModule; kem: number }> | undefined

async function load(): Promise<{ module: OqsModule; kem: number }> {
  const url = new URL('../dist/ml-kem-768.min.js', import.meta.resolve('@oqs/liboqs-js'))
  const factory = ((await import(url.href)) as { default: () => Promise<OqsModule> }).default
  const module = await factory()
  module._OQS_init()
  const name = 'ML-KEM-768'
  const size = module.lengthBytesUTF8(name) + 1
  const namePointer = module._malloc(size)
  module.stringToUTF8(name, namePointer, size)
  const kem = module._OQS_KEM_new(namePointer)
  module._free(namePointer)
  if (!kem) throw new Error('liboqs has no ML-KEM-768')
  return { module, kem }
}

/** One decapsulation key held in WebAssembly memory. */
export interface ResidentMlKemKey {
  /** ML-KEM.Decaps (FIPS 203 §7.3): the 32-byte shared secret, which the caller wipes. */
  decapsulate(ciphertext: Uint8Array): Uint8Array
  /** Overwrites the key (and the last ciphertext) in WebAssembly memory and frees them. */
  destroy(): void
}

/** Copies `decapsulationKey` into WebAssembly memory; the caller wipes its own copy. */
export async function residentMlKem768Key(decapsulationKey: Uint8Array): Promise<ResidentMlKemKey> {
  if (decapsulationKey.length !== MLKEM768_DECAPSULATION_KEY_LENGTH) {
    throw new RangeError('an ML-KEM-768 decapsulation key is 2,400 bytes')
  }
  loading ??= load()
  const { module, kem } = await loading
  const key = module._malloc(MLKEM768_DECAPSULATION_KEY_LENGTH)
  const ciphertext = module._malloc(MLKEM768_CIPHERTEXT_LENGTH)
  const secret = module._malloc(SHARED_SECRET_LENGTH)
  // HEAPU8 is read at each use: the module replaces it when its memory grows.
  module.HEAPU8.set(decapsulationKey, key)
  let destroyed = false
  return {
    decapsulate(ct) {
      if (destroyed) throw new Error('the key was destroyed')
      if (ct.length !== MLKEM768_CIPHERTEXT_LENGTH) throw new RangeError('not an ML-KEM-768 ct')
      module.HEAPU8.set(ct, ciphertext)
      const failed = module._OQS_KEM_decaps(kem, secret, ciphertext, key) !== 0
      const out = module.HEAPU8.slice(secret, secret + SHARED_SECRET_LENGTH)
      module.HEAPU8.fill(0, secret, secret + SHARED_SECRET_LENGTH)
      if (failed) {
        out.fill(0)
        throw new Error('ML-KEM-768 decapsulation failed')
      }
      return out
    },
    destroy() {
      if (destroyed) return
      destroyed = true
      module.HEAPU8.fill(0, key, key + MLKEM768_DECAPSULATION_KEY_LENGTH)
      module.HEAPU8.fill(0, ciphertext, ciphertext + MLKEM768_CIPHERTEXT_LENGTH)
      for (const pointer of [key, ciphertext, secret]) module._free(pointer)
    },
  }
}
