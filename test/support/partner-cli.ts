import { execFile } from 'node:child_process'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a partner program with `input` on standard input only (never in its arguments). */
export function runWithInput(
  command: string,
  args: string[],
  input: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() })
      },
    )
    child.stdin!.end(input)
  })
}

/**
 * A token with one character of its ciphertext changed (JWE: the fourth part; HPKE: a character
 * well inside the sealed bytes), still canonical base64url: the gateway must refuse it.
 */
export function tamper(token: string): string {
  const at = token.includes('.')
    ? token.split('.').slice(0, 3).join('.').length + 2
    : token.length - 12
  const swapped = token[at] === 'A' ? 'B' : 'A'
  return token.slice(0, at) + swapped + token.slice(at + 1)
}

/** The OperationOutcome's error code of a search with `url`, and its HTTP status. */
export async function refusal(url: string): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(url)
  const body = (await res.json()) as { issue?: { details?: { coding?: { code?: string }[] } }[] }
  return { status: res.status, code: body.issue?.[0]?.details?.coding?.[0]?.code }
}
