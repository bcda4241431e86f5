import { describe, expect, it } from 'vitest'
import { childEnv, start } from '../support/process.js'

const MARK = 'zz-secret-Mark-9f'

/** Starts the gateway with `env`, which must stop it during start-up; its output and exit code. */
async function refusedStart(env: Record<string, string>) {
  const running = start(
    process.execPath,
    ['--import', 'tsx', 'src/index.ts'],
    childEnv({ PORT: '0', KEYS_DIR: 'no-such-dir', KEYS_AUTOGENERATE: 'false', ...env }),
  )
  const code = await running.stop({ group: false })
  return { code, output: running.output() }
}

describe('a bad setting at start-up', () => {
  it('stops the gateway with one line naming the variable, never the secret', async () => {
    const r = await refusedStart({ AUDIT_HMAC_KEY: MARK })
    expect(r.code).toBe(1)
    expect(r.output).toBe(
      'sealed-search: AUDIT_HMAC_KEY: must be at least 32 bytes, hex-encoded (64+ hex digits)\n',
    )
    expect(r.output).not.toContain(MARK)
  })
})
