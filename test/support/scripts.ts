import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { childEnv } from './process.js'

const exec = promisify(execFile)

/**
 * The command line that runs a production command from the build, as `npm run <name>` does
 * (the suite's global setup builds dist/ first).
 */
export function scriptArgs(name: string, args: string[] = []): [string, string[]] {
  return [process.execPath, [`dist/${name}.js`, ...args]]
}

/** The command line that runs the gateway in the foreground, as `npm start` does. */
export function gatewayArgs(): [string, string[]] {
  return [process.execPath, ['dist/index.js']]
}

export interface ScriptResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a script to its end with the child environment of `childEnv(env)`. */
export async function runScript(
  name: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<ScriptResult> {
  const [command, argv] = scriptArgs(name, args)
  try {
    const { stdout, stderr } = await exec(command, argv, { env: childEnv(env) })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}
