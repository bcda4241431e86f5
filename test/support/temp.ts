import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Directories made by tempDir in this test file; test/support/setup.ts removes them after it. */
const made = new Set<string>()

/** A fresh directory under the temporary directory, removed when the test file ends. */
export async function tempDir(prefix = 'sealed-search-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  made.add(dir)
  return dir
}

export async function removeTempDirs(): Promise<void> {
  const dirs = [...made]
  made.clear()
  // A process that has just stopped may still be closing files: rm retries ENOTEMPTY and EBUSY.
  await Promise.all(
    dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })),
  )
}
