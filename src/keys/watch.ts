import { watch, type FSWatcher } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { LOCK_FILE } from './dir-lock.js'
import { MANIFEST_FILE } from './manifest.js'

export interface DirectoryWatch {
  close(): void
}

export interface WatchOptions {
  /** Called when a watch cannot be set up (the poll still runs). */
  onWatchError?: (error: unknown) => void
  /** How often the manifest's identity is compared, in case no file event came (default 1 s). */
  pollMs?: number
  /** Quiet time after the last file event before `onChange` runs (default 25 ms). */
  debounceMs?: number
  /** Use file events (default true); false leaves the poll alone, as on a mount without them. */
  events?: boolean
}

/** The directory (following symlinks) and its manifest, as stat sees them; '-' when absent. */
async function identity(dir: string): Promise<{ dir: string; manifest: string }> {
  const of = async (path: string, full: boolean) => {
    try {
      const s = await stat(path)
      return full ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : `${s.dev}:${s.ino}`
    } catch {
      return '-'
    }
  }
  return { dir: await of(dir, false), manifest: await of(join(dir, MANIFEST_FILE), true) }
}

/**
 * Calls `onChange` when the key directory changes, and keeps doing so when the directory itself
 * is replaced: by `mv new keys` (a new inode under the same name) or by an orchestrator's
 * `..data` symlink swap (the files are symlinks into a directory that is swapped and deleted).
 * Three sources, any of which suffices: a watch on the directory, re-armed whenever the directory
 * behind the name changes; a watch on its parent, which sees the name being replaced; and a poll
 * of the directory's and the manifest's identity (inode, size, times), for file systems where
 * events do not arrive (network mounts, some container volumes).
 */
export function watchKeyDirectory(
  dir: string,
  onChange: (reason: string) => void,
  { onWatchError, pollMs = 1000, debounceMs = 25, events = true }: WatchOptions = {},
): DirectoryWatch {
  let closed = false
  let inner: FSWatcher | undefined
  let outer: FSWatcher | undefined
  let armedOn = ''
  let seen = { dir: '', manifest: '' }
  let timer: NodeJS.Timeout | undefined

  const arm = (id: string) => {
    inner?.close()
    inner = undefined
    armedOn = id
    if (id === '-' || !events) return // no directory now: the parent watch or the poll sees it
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

  // Re-arms the directory watch if the name now points elsewhere, then reports a change.
  const check = async (reason: string, always: boolean) => {
    const now = await identity(dir)
    if (closed) return
    if (events && (now.dir !== armedOn || !inner)) arm(now.dir)
    const changed = now.dir !== seen.dir || now.manifest !== seen.manifest
    seen = now
    if (always || changed) onChange(reason)
  }

  const schedule = (reason: string) => {
    clearTimeout(timer)
    timer = setTimeout(() => void check(reason, true), debounceMs)
  }

  // The parent sees the directory's name being replaced (mv, or a ..data swap of `dir` itself).
  const watchParent = () => {
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
  }

  if (events) watchParent()
  const poll = setInterval(() => void check('manifest changed (poll)', false), pollMs)
  poll.unref()
  arm('')
  void identity(dir).then((id) => {
    if (closed) return
    seen = id
    armedOn = id.dir
  })

  return {
    close() {
      closed = true
      clearTimeout(timer)
      clearInterval(poll)
      inner?.close()
      outer?.close()
    },
  }
}
