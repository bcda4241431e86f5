import { spawn, type ChildProcess } from 'node:child_process'

export interface Running {
  child: ChildProcess
  output: () => string
  /** Resolves with the first match of `pattern` in stdout+stderr, or rejects on exit/timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /**
   * Resolves with the exit code, sending SIGTERM first to the whole process group, or with
   * `group: false` only waiting for an exit that another signal set off.
   */
  stop(options?: { group?: boolean }): Promise<number | null>
}

/** Starts a command in its own process group, collecting everything it writes. */
export function start(command: string, args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8')
    for (const l of listeners) l()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    child,
    output: () => out,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern)
          if (m) {
            cleanup()
            resolve(m)
          }
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`timed out waiting for ${pattern}; output:\n${out}`))
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        void exited.then((code) => {
          if (listeners.has(check)) {
            cleanup()
            reject(new Error(`exited with ${code} before ${pattern}; output:\n${out}`))
          }
        })
        check()
      })
    },
    async stop({ group = true } = {}) {
      if (group && child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGTERM')
        } catch {
          // already gone
        }
      }
      return exited
    },
  }
}

/** The environment of a child process: this one's, minus database settings unless given. */
export function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' }
  delete env.DATABASE_URL
  delete env.DATABASE_SCHEMA
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}
