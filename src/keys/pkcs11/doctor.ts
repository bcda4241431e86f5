import type { Finding } from '../custody/finding.js'
import type { KeyEntry } from '../stores/key-store.js'
import { isAccepted } from '../stores/manifest.js'
import { hsmFindings } from './store.js'
import type { Pkcs11Options } from './token.js'

/**
 * `npm run keys -- doctor` for the keys of a ring that live in a PKCS#11 token, in either store:
 * each key that can still decrypt is in its token with the kid's public key, and the token says
 * the private key is sensitive, never extractable and can derive (PKCS#11 §4.9: CKA_SENSITIVE,
 * CKA_ALWAYS_SENSITIVE, CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE). With `dir`, the directory's
 * public JWK file too. Retired and revoked keys are not asked for.
 */
export async function hsmDoctor(
  entries: readonly KeyEntry[],
  pkcs11: Pkcs11Options | undefined,
  now: Date,
  dir?: string,
): Promise<Finding[]> {
  const out: Finding[] = []
  for (const entry of entries) {
    if (entry.backend !== 'pkcs11') continue
    if (entry.state === 'retired' || entry.state === 'revoked' || entry.state === 'destroyed') {
      continue
    }
    const errors = await hsmFindings(entry, pkcs11, dir)
    for (const message of errors) out.push({ level: 'error', message })
    if (errors.length === 0) {
      out.push({
        level: 'ok',
        message: `${entry.kid}: in token ${entry.pkcs11!.token}, sensitive, never extractable, can derive`,
      })
    }
    if (entry.state === 'retiring' && !isAccepted(entry, now)) {
      out.push({
        level: 'warning',
        message: `${entry.kid}: retiring key past its notAfter; run: npm run keys -- retire ${entry.kid}`,
      })
    }
  }
  return out
}
