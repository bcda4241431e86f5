import { isMainThread } from 'node:worker_threads'
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Makes the embedded database's directory owner-only: the directory 0700, and from now on every
 * file this process creates 0600 / 0700 (umask 077). PGlite creates files for as long as it
 * runs, with the modes the umask leaves, so the umask is the one setting that covers them all.
 */
export async function ownerOnlyDataDir(dataDir: string): Promise<void> {
  // Worker threads cannot set the umask; the gateway and the scripts run in the main thread.
  if (isMainThread) process.umask(0o077)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await chmod(dataDir, 0o700)
}

/**
 * Takes group and other bits off every file and directory under `dir`. PGlite unpacks its
 * initial database with mode 0666 whatever the umask; an older data directory may hold such
 * files too. Returns how many entries it changed.
 */
export async function tightenModes(dir: string): Promise<number> {
  let changed = 0
  const entries = await readdir(dir, { withFileTypes: true })
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isSymbolicLink()) continue
    if (entry.isDirectory()) changed += await tightenModes(path)
    const mode = (await lstat(path)).mode & 0o777
    if (mode & 0o077) {
      await chmod(path, mode & 0o700)
      changed++
    }
  }
  return changed
}
