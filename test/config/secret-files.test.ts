import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, legacyHashPepper, loadConfig } from '../../src/config/index.js'
import { listen } from '../../src/http/listen.js'
import { createLogger } from '../../src/log/logger.js'
import { childEnv, start } from '../support/process.js'
import { tempDir } from '../support/temp.js'

const MARK = 'zz-secret-Mark-9f'
const HMAC = 'ab'.repeat(32)

/** Writes `content` to a fresh file with `mode` (set with chmod, whatever the umask). */
async function secretFile(name: string, content: string, mode: number): Promise<string> {
  const file = join(await tempDir(), name)
  await writeFile(file, content, { mode: 0o600 })
  await chmod(file, mode)
  return file
}

function refusal(load: () => unknown): ConfigError {
  try {
    load()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

const PIN_TOKEN = { PKCS11_MODULE: '/lib/p11.so', PKCS11_TOKEN_LABEL: 'gw' }

describe('secret files that the group or others may read', () => {
  it.each([
    ['KEYS_PASSPHRASE_FILE', MARK, {}],
    ['PKCS11_PIN_FILE', MARK, PIN_TOKEN],
    ['AUDIT_HMAC_KEY_FILE', HMAC, {}],
  ] as const)(
    'refuses %s at mode 0644 or 0640, naming the variable',
    async (variable, value, extra) => {
      for (const mode of [0o644, 0o640, 0o604]) {
        const file = await secretFile('secret', `${value}\n`, mode)
        const error = refusal(() => loadConfig({ ...extra, [variable]: file }))
        expect(error.variable).toBe(variable)
        expect(error.message).toContain(`${file}: permissions ${mode.toString(8)} are too open`)
        expect(error.message).not.toContain(value)
      }
      const owner = await secretFile('secret', `${value}\n`, 0o600)
      expect(() => loadConfig({ ...extra, [variable]: owner })).not.toThrow()
      const readOnly = await secretFile('secret', `${value}\n`, 0o400)
      expect(() => loadConfig({ ...extra, [variable]: readOnly })).not.toThrow()
    },
  )

  it('refuses LEGACY_HASH_PEPPER_FILE at mode 0644', async () => {
    const file = await secretFile('pepper', '00ff\n', 0o644)
    expect(refusal(() => legacyHashPepper({ LEGACY_HASH_PEPPER_FILE: file })).variable).toBe(
      'LEGACY_HASH_PEPPER_FILE',
    )
  })

  it('refuses a TLS private key that others may read before serving, naming TLS_KEY_FILE', async () => {
    const keyFile = await secretFile('server.key', 'not read\n', 0o644)
    const tls = {
      certFile: join(keyFile, '..', 'server.crt'),
      keyFile,
      clientCaFile: join(keyFile, '..', 'ca.crt'),
      clientAllowlist: [],
      boundClients: [],
      pqClients: [],
    }
    const started = listen(() => new Response('no'), {
      host: '127.0.0.1',
      port: 0,
      tls,
      logger: createLogger('silent'),
    })
    await expect(started).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      variable: 'TLS_KEY_FILE',
      message: expect.stringContaining('are too open') as unknown,
    })
  })

  it('stops the gateway at start-up with one line naming the variable, never the secret', async () => {
    const file = await secretFile('passphrase', `${MARK}\n`, 0o644)
    const running = start(
      process.execPath,
      ['--import', 'tsx', 'src/index.ts'],
      childEnv({
        PORT: '0',
        KEYS_DIR: 'no-such-dir',
        KEYS_AUTOGENERATE: 'false',
        KEYS_PASSPHRASE_FILE: file,
      }),
    )
    expect(await running.stop({ group: false })).toBe(1)
    expect(running.output()).toBe(
      `sealed-search: KEYS_PASSPHRASE_FILE: ${file}: permissions 644 are too open; the file must not be readable by group or others (chmod 600)\n`,
    )
  })
})
