/**
 * The servers `npm run bench` measures, each its own process: the built gateway as an operator
 * runs it (node dist/index.js), and the floor (scripts/bench/floor.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'

export interface Server {
  base: string
  child: ChildProcess
  stop(): Promise<void>
}

/** Starts `args` under node; resolves with the URL it prints on stderr (`listening on URL`). */
function start(args: string[], env: NodeJS.ProcessEnv, logFile: string): Promise<Server> {
  const out = openSync(logFile, 'a')
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', out, 'pipe'] })
  closeSync(out)
  let stderr = ''
  return new Promise<Server>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
      const m = /listening on (https?:\/\/\S+)/.exec(stderr)
      if (m) {
        resolve({
          base: m[1]!,
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done()
              child.once('exit', () => done())
              child.kill('SIGTERM')
            }),
        })
      }
    })
    child.on('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${stderr}`)),
    )
  })
}

/** The production build, as an operator runs it: node dist/index.js. */
export function startGateway(env: NodeJS.ProcessEnv, logFile: string): Promise<Server> {
  return start(['dist/index.js'], env, logFile)
}

/** The floor: node:http, postgres.js and the gateway's lookup SQL, nothing else. */
export function startFloor(env: NodeJS.ProcessEnv, logFile: string): Promise<Server> {
  return start(['--import', 'tsx', 'scripts/bench/floor.ts'], env, logFile)
}
