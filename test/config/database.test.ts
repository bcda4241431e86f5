import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { tempDir } from '../support/keys.js'

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return e as ConfigError
  }
  throw new Error('accepted')
}

const PRIMARY = 'postgres://gw:pw@primary:5432/sealed'
const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

describe('database settings', () => {
  it('takes a read URL listing several hosts, and a primary URL with target_session_attrs', () => {
    const db = loadConfig({
      DATABASE_URL: 'postgres://gw:pw@p1:5432,p2:5433/sealed?target_session_attrs=read-write',
      DATABASE_READ_URL: 'postgresql://gw:pw@standby-1:5432,standby-2,primary:5432/sealed',
    }).db
    expect(db.url).toContain('p1:5432,p2:5433')
    expect(db.readUrl).toContain('standby-1:5432,standby-2,primary:5432')
  })

  it('refuses a read URL without a primary, naming DATABASE_READ_URL', () => {
    const e = refusal({ DATABASE_READ_URL: PRIMARY })
    expect(e.variable).toBe('DATABASE_READ_URL')
    expect(e.message).toMatch(/needs DATABASE_URL/)
  })

  it.each([
    ['mysql://gw:pw@h/db', /must start with postgres/],
    ['postgres://gw:pw@/db', /names no host/],
    ['postgres://gw:pw@h1,h 2/db', /not a valid URL/],
  ])('refuses the read URL %s without quoting it', (url, message) => {
    const e = refusal({ DATABASE_URL: PRIMARY, DATABASE_READ_URL: url })
    expect(e.variable).toBe('DATABASE_READ_URL')
    expect(e.message).toMatch(message)
    expect(e.message).not.toContain('pw')
  })

  it('reads both connection strings from files (secrets as files)', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    await writeFile(join(dir, 'primary'), `${PRIMARY}\n`, { mode: 0o600 })
    await writeFile(join(dir, 'read'), 'postgres://gw:pw@s1,s2/sealed\n', { mode: 0o600 })
    const db = loadConfig({
      DATABASE_URL_FILE: join(dir, 'primary'),
      DATABASE_READ_URL_FILE: join(dir, 'read'),
    }).db
    expect(db.url).toBe(PRIMARY)
    expect(db.readUrl).toBe('postgres://gw:pw@s1,s2/sealed')
  })

  it('takes the pool limits, and refuses them out of range', () => {
    const db = loadConfig({ DB_IDLE_TIMEOUT: '5', DB_MAX_LIFETIME: '600' }).db
    expect([db.idleTimeoutSeconds, db.maxLifetimeSeconds]).toEqual([5, 600])
    expect(refusal({ DB_IDLE_TIMEOUT: '0' }).variable).toBe('DB_IDLE_TIMEOUT')
    expect(refusal({ DB_MAX_LIFETIME: '5' }).variable).toBe('DB_MAX_LIFETIME')
  })
})
