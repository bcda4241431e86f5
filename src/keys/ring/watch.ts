import { watch, type FSWatcher } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { LOCK_FILE } from '../stores/dir-lock.js'

export interface DirectoryWatch {
  /**
   * Re-arms the watch if the name now points at another directory. The follower's version poll
   * calls it, so a replacement whose events were all missed is watched again from the next poll.
   */
  rearm(): Promise<void>
  close(): void
}

export interface WatchOptions {
  /** Called when a watch cannot be set up (the follower's poll still sees changes). */
  onWatchError?: (error: unknown) => void
  /** Quiet time after the last file event before `onChange` runs (default 25 ms). */
  debounceMs?: number
}

/** The directory behind the name (following symlinks), as device and inode; '-' when absent. */
async function identity(dir: string): Promise<string> {
  try {
    const s = await stat(dir)
    return `${s.dev}:${s.ino}`
  } catch {
    return '-'
  }
}

/**
 * Calls `onChange` when the key directory changes, and keeps doing so when the directory itself
 * is replaced: by `mv new keys` (a new inode under the same name) or by an orchestrator's
 * `..data` symlink swap (the files are symlinks into a directory that is swapped and deleted).
 * A watch on the directory, re-armed whenever the directory behind the name changes, and a
 * watch on its parent, which sees the name being replaced. Where events do not arrive (network
 * mounts, some container volumes) the follower's poll of the manifest's version sees changes.
 */
export function watchKeyDirectory(
  dir: string,
  onChange: (reason: string) => void,
  { onWatchError, debounceMs = 25 }: WatchOptions = {},
): DirectoryWatch {
  let closed = false
  let inner: FSWatcher | undefined
  let outer: FSWatcher | undefined
  let armedOn = ''
  let timer: NodeJS.Timeout | undefined

  const arm = (id: string) => {
    inner?.close()
    inner = undefined
    armedOn = id
    if (id === '-') return // no directory now: the parent watch or the poll sees it come back
    try {
      inner = watch(dir, { persistent: false }, (_event, file) => {
        // Temporary files of an atomic write, the lock and the published JWKS change nothing.
        if (file && (file.endsWith('.tmp') || file === 'jwks.json' || file === LOCK_FILE)) return
        schedule('file change')
      })
      inner.on('error', () => {
        // The directory went away under the watch; the next event or poll re-arms it.
        inner?.close()
        inner = undefined
        armedOn = ''
      })
    } catch (error) {
      onWatchError?.(error)
    }
  }

  const rearm = async () => {
    const now = await identity(dir)
    if (!closed && (now !== armedOn || !inner)) arm(now)
  }

  const schedule = (reason: string) => {
    clearTimeout(timer)
    timer = setTimeout(() => void rearm().then(() => closed || onChange(reason)), debounceMs)
  }

  // The parent sees the directory's name being replaced (mv, or a ..data swap of `dir` itself).
  try {
    const name = basename(dir)
    outer = watch(dirname(dir), { persistent: false }, (_event, file) => {
      if (file === name) schedule('key directory replaced')
    })
    outer.on('error', () => {
      outer?.close()
      outer = undefined
    })
  } catch (error) {
    onWatchError?.(error)
  }
  arm('')
  void identity(dir).then((id) => {
    if (!closed && armedOn === '') armedOn = id
  })

  return {
    rearm,
    close() {
      closed = true
      clearTimeout(timer)
      inner?.close()
      outer?.close()
    },
  }
}
