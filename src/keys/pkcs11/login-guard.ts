import { KeyStoreError } from '../errors.js'

/**
 * PKCS#11 login answers that mean the PIN itself was refused. A real token counts wrong PINs and
 * locks its user PIN after a few (PKCS#11 §5.6 C_Login; CKF_USER_PIN_FINAL_TRY): one instance
 * retrying at every poll would lock the fleet out, so after one of these no login is tried again
 * until the PIN changes or the operator asks (SIGHUP).
 */
export const PIN_REFUSALS: ReadonlySet<string> = new Set([
  'CKR_PIN_INCORRECT',
  'CKR_PIN_LOCKED',
  'CKR_PIN_EXPIRED',
])

interface Refusal {
  /** The PIN refused: another PIN (a changed configuration) may be tried. */
  pin: string
  ckr: string
}

/** Refused logins by token (module and label), for this process. */
const refused = new Map<string, Refusal>()
/** Logins tried, by result (`ok` or the CKR_ name), for the metric. */
const attempts = new Map<string, number>()

function heldBack(label: string, ckr: string): KeyStoreError {
  return new KeyStoreError(
    'ERR_KEYS_HSM_PIN_REFUSED',
    `token ${label}: login refused (${ckr}); no further login until PKCS11_PIN changes or SIGHUP, so the token is not locked by retries`,
  )
}

/** Throws, without touching the token, while `pin` is the PIN this token last refused. */
export function checkLoginAllowed(token: string, label: string, pin: string): void {
  const last = refused.get(token)
  if (last && last.pin === pin) throw heldBack(label, last.ckr)
}

/**
 * Records a login's result (`ok` or its CKR_ name). A refused PIN is remembered and the error
 * to raise returned; any other result clears the token's refusal.
 */
export function loginResult(
  token: string,
  label: string,
  pin: string,
  ckr: string,
): KeyStoreError | undefined {
  attempts.set(ckr, (attempts.get(ckr) ?? 0) + 1)
  if (!PIN_REFUSALS.has(ckr)) {
    refused.delete(token)
    return undefined
  }
  refused.set(token, { pin, ckr })
  return heldBack(label, ckr)
}

/** SIGHUP: the operator has fixed the token or the PIN; the next use may log in once more. */
export function allowPkcs11Login(): void {
  refused.clear()
}

/** The CKR_ names of the refusals holding logins back now, for the metric. */
export function pkcs11LoginRefusals(): string[] {
  return [...refused.values()].map((r) => r.ckr)
}

/** Logins tried since start, by result. */
export function pkcs11LoginAttempts(): ReadonlyMap<string, number> {
  return attempts
}
