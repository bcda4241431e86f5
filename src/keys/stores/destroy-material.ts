import { randomBytes } from 'node:crypto'
import { open, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { KeyEntry } from './key-store.js'
import { privateKeyFileName } from './manifest.js'

/**
 * Removing a destroyed key's private material from a key directory: each file that may hold it
 * (the clear and the sealed name) is overwritten with random bytes of its length, flushed to
 * the disk, then unlinked. On a copy-on-write or journalling file system, or an SSD, the old
 * blocks may survive the overwrite; the unlink and the state record are what every store can
 * promise (docs/ROTATION.md says so).
 */

/** The files of a directory that may hold the private key of `entry` (none for a token key). */
export function privateKeyFiles(dir: string, entry: KeyEntry): string[] {
  if (entry.backend === 'pkcs11') return []
  return [privateKeyFileName(entry.kid), privateKeyFileName(entry.kid, true)].map((f) =>
    join(dir, f),
  )
}

/** Overwrites and unlinks `path`; false when there was no such file. */
export async function wipeFile(path: string): Promise<boolean> {
  let handle
  try {
    handle = await open(path, 'r+')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return false
    throw error
  }
  try {
    const { size } = await handle.stat()
    for (let at = 0; at < size; at += 1 << 16) {
      await handle.write(randomBytes(Math.min(1 << 16, size - at)), 0, undefined, at)
    }
    await handle.sync()
  } finally {
    await handle.close()
  }
  await unlink(path)
  return true
}

/** Wipes the private key files of every destroyed entry; returns the paths it removed. */
export async function wipeDestroyedKeyFiles(
  dir: string,
  entries: readonly KeyEntry[],
): Promise<string[]> {
  const removed: string[] = []
  for (const entry of entries.filter((e) => e.state === 'destroyed')) {
    for (const path of privateKeyFiles(dir, entry)) if (await wipeFile(path)) removed.push(path)
  }
  return removed
}
