import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyStoreError } from '../errors.js'
import { publicOfStored, thumbprint } from '../jwk.js'
import {
  isAccepted,
  isSealedKeyFile,
  MANIFEST_FILE,
  PRIVATE_KEY_FILE,
  readManifest,
  TEMPORARY_FILE,
} from '../stores/manifest.js'
import { PBES2_ITERATIONS, sealParameters } from '../stores/protect.js'
import { hsmDoctor } from '../pkcs11/doctor.js'
import type { StoreTokenOptions } from '../stores/key-store.js'
import { readPrivateKeyFile, type KeyFileOptions } from '../stores/dir-files.js'

import type { Finding } from './finding.js'

export type { Finding }

/** Keys a manifest from before HPKE key ids lists without one (readManifest numbers them). */
async function keysWithoutHpkeKeyId(dir: string): Promise<number> {
  try {
    const raw = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as {
      keys: { hpkeKeyId?: unknown }[]
    }
    return raw.keys.filter((k) => k.hpkeKeyId === undefined).length
  } catch {
    return 0 // no manifest yet: an empty directory
  }
}

/** The iteration count of a sealed file written with fewer than today's, if it opens at all. */
async function weakSeal(path: string): Promise<number | undefined> {
  try {
    const { iterations } = sealParameters(await readFile(path, 'utf8'), path)
    return iterations < PBES2_ITERATIONS ? iterations : undefined
  } catch {
    return undefined // unreadable or out of bounds: the load reports it as an error
  }
}

/** Age past which a temporary file of an atomic write is taken as left by a killed writer. */
const LEFTOVER_AGE_MS = 60_000

async function isOlderThan(path: string, ms: number, now: Date): Promise<boolean> {
  try {
    return now.getTime() - (await stat(path)).mtimeMs > ms
  } catch {
    return false // renamed or removed since the listing: its writer finished
  }
}

/**
 * Consistency and permission checks of a key directory. Messages name files and kids, never
 * key material.
 */
export async function doctor(
  dir: string,
  options: KeyFileOptions & StoreTokenOptions & { jwksMaxAgeSeconds?: number } = {},
  now = new Date(),
): Promise<Finding[]> {
  const out: Finding[] = []
  const error = (message: string) => out.push({ level: 'error', message })
  const warn = (message: string) => out.push({ level: 'warning', message })
  // A temporary file of an atomic write (writeFileAtomic) whose writer was killed before its
  // rename. A private key's is an error when it is not sealed: a plain private key outside the
  // ring's files.
  const leftover = (file: string, written: string) => {
    const remove = 'delete it once no keys command is running'
    if (!PRIVATE_KEY_FILE.test(written)) {
      warn(`${file}: an interrupted write of ${written} left this file; ${remove}`)
    } else if (isSealedKeyFile(written)) {
      warn(`${file}: an interrupted write left a sealed private key here; ${remove}`)
    } else {
      error(`${file}: an interrupted write left an unsealed private key here; ${remove}`)
    }
  }

  let manifest
  try {
    manifest = await readManifest(dir)
  } catch (e) {
    error((e as Error).message)
    return out
  }
  for (const bad of manifest.invalid) error(`${bad.why}: left out of the ring`)
  const unrecorded = await keysWithoutHpkeKeyId(dir)
  if (unrecorded > 0) {
    warn(
      `${MANIFEST_FILE}: ${unrecorded} key(s) without hpkeKeyId, numbered on load in manifest order; the next rotate, retire or revoke records them`,
    )
  }
  const dirMode = (await stat(dir)).mode & 0o777
  if (dirMode & 0o022) error(`${dir}: writable by group or others (mode ${dirMode.toString(8)})`)

  // Keys in a PKCS#11 token have no private key file: hsmDoctor asks their token.
  out.push(...(await hsmDoctor(manifest.keys, options.pkcs11, now, dir)))
  for (const entry of manifest.keys.filter((k) => k.backend !== 'pkcs11')) {
    if (entry.state === 'retired' || entry.state === 'revoked' || entry.state === 'destroyed') {
      continue
    }
    try {
      const jwk = await readPrivateKeyFile(dir, entry, options)
      if ((await thumbprint(publicOfStored(jwk))) !== entry.kid) {
        error(`${entry.file}: kid is not the key's RFC 7638 thumbprint`)
      }
    } catch (e) {
      const why = e instanceof KeyStoreError ? e.message : `${entry.file}: unreadable`
      error(`key ${entry.kid} (${entry.state}) not loaded: ${why}`)
    }
    if (entry.state === 'retiring' && !isAccepted(entry, now)) {
      warn(`${entry.kid}: retiring key past its notAfter; run: npm run keys -- retire ${entry.kid}`)
    }
    if (isAccepted(entry, now) && isSealedKeyFile(entry.file)) {
      const weak = await weakSeal(join(dir, entry.file))
      if (weak !== undefined) {
        warn(
          `key ${entry.kid}: weak seal (PBES2 p2c=${weak}, under ${PBES2_ITERATIONS}); rotate it with KEYS_PASSPHRASE set`,
        )
      }
    }
  }
  const active = manifest.keys.filter((k) => k.state === 'active')
  if (active.length === 0) error('no active key: partners have nothing to encrypt to')

  const listed = new Set(manifest.keys.map((k) => k.file))
  for (const file of await readdir(dir)) {
    if (PRIVATE_KEY_FILE.test(file) && !listed.has(file)) {
      warn(`${file}: a key file the manifest does not list`)
    }
    const written = TEMPORARY_FILE.exec(file)?.[1]
    // A write in progress lasts milliseconds: a minute-old temporary file's writer is gone.
    if (written !== undefined && (await isOlderThan(join(dir, file), LEFTOVER_AGE_MS, now))) {
      leftover(file, written)
    }
  }
  try {
    const published = JSON.parse(await readFile(join(dir, 'jwks.json'), 'utf8')) as {
      keys?: { kid?: string; hpke_key_id?: unknown }[]
    }
    const kids = new Set((published.keys ?? []).map((k) => k.kid))
    if (kids.size !== active.length || active.some((k) => !kids.has(k.kid))) {
      warn('jwks.json does not list exactly the active keys; run: npm run keys -- publish')
    } else {
      // A file published before HPKE key ids: partners reading it cannot make HPKE tokens.
      const ids = new Map((published.keys ?? []).map((k) => [k.kid, k.hpke_key_id]))
      if (active.some((k) => ids.get(k.kid) !== k.hpkeKeyId)) {
        warn("jwks.json lacks the keys' hpke_key_id; run: npm run keys -- publish")
      }
    }
  } catch {
    // No published file: the gateway serves the JWKS itself.
  }
  if (!out.some((f) => f.level === 'error')) {
    out.push({ level: 'ok', message: `${manifest.keys.length} key(s), ${active.length} active` })
  }
  return out
}
