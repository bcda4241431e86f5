import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyStoreError } from '../errors.js'
import { processRuns } from '../../pid.js'

/** The lock file of a key directory: held by one custodian command at a time. */
export const LOCK_FILE = '.keys.lock'

/** Takes the lock or returns false; a lock left by a process that no longer runs is broken. */
async function tryLock(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600)
    await handle.writeFile(String(process.pid))
    await handle.close()
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const owner = Number(await readFile(path, 'utf8').catch(() => ''))
  if (Number.isInteger(owner) && owner > 0 && !processRuns(owner)) await rm(path, { force: true })
  return false
}

/**
 * Runs `work` holding the directory's lock (an O_EXCL lock file with the holder's pid), so two
 * custodian commands on one directory run one after the other. Waits up to `waitMs`.
 */
export async function withDirLock<T>(
  dir: string,
  work: () => Promise<T>,
  waitMs = 15_000,
): Promise<T> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, LOCK_FILE)
  const deadline = Date.now() + waitMs
  while (!(await tryLock(path))) {
    if (Date.now() > deadline) {
      throw new KeyStoreError(
        'ERR_KEYS_LOCKED',
        `${path}: another key command holds the lock; remove the file if no key command runs`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30))
  }
  try {
    return await work()
  } finally {
    await rm(path, { force: true })
  }
}
