import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BATCH_SIZE, flushed, logDestination } from '../../src/log/destination.js'
import { tempDir } from '../support/temp.js'

const read = (file: string) => readFile(file, 'utf8').catch(() => '')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `file` until `done(text)` holds, for up to 5 s; returns the text. */
async function until(file: string, done: (text: string) => boolean): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const text = await read(file)
    if (done(text)) return text
    await sleep(50)
  }
  return read(file)
}

/** Runs `body` in a node process of its own with `logDestination` imported; its exit status. */
function child(body: string, signal?: NodeJS.Signals): Promise<number | null> {
  const url = new URL('../../src/log/destination.ts', import.meta.url).href
  const code = `import { logDestination } from ${JSON.stringify(url)}\n${body}`
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  return new Promise((resolve) => {
    if (signal) p.stdout!.once('data', () => p.kill(signal))
    p.on('exit', (status) => resolve(status))
  })
}

describe('a log destination that gathers lines', () => {
  it('holds a line up to flushMs, then writes it without another line to push it', async () => {
    const file = join(await tempDir(), 'audit.log')
    const d = logDestination(file, { flushMs: 1500 })
    d.write('{"n":1}\n')
    await sleep(100)
    expect(await read(file)).toBe('')
    expect(await until(file, (t) => t.length > 0)).toBe('{"n":1}\n')
  })

  it('writes a batch at once when it reaches BATCH_SIZE, in the order the lines came', async () => {
    const file = join(await tempDir(), 'audit.log')
    const d = logDestination(file, { flushMs: 60_000 })
    const lines = Array.from({ length: 100 }, (_, n) => `{"n":${n},"pad":"${'x'.repeat(100)}"}\n`)
    for (const l of lines) d.write(l)
    const text = await until(file, (t) => t.length >= BATCH_SIZE)
    expect(text.length).toBeGreaterThanOrEqual(BATCH_SIZE)
    expect(lines.join('').startsWith(text)).toBe(true)
    await flushed(d)
    expect(await read(file)).toBe(lines.join(''))
  })

  it('has everything on disk when flush is done, whether a write was in flight or not', async () => {
    const file = join(await tempDir(), 'audit.log')
    const d = logDestination(file, { flushMs: 60_000 })
    await flushed(d) // nothing written yet, the file possibly still opening
    let expected = ''
    for (let round = 0; round < 20; round++) {
      const line = `{"round":${round}}\n`.repeat(round * 50)
      d.write(line)
      expected += line
      await flushed(d)
      expect(await read(file)).toBe(expected)
    }
  })

  it('writes each line as it comes with flushMs 0, and flush waits for the write', async () => {
    const file = join(await tempDir(), 'audit.log')
    const d = logDestination(file, { flushMs: 0, mode: 0o600 })
    d.write('{"n":1}\n')
    await flushed(d)
    expect(await read(file)).toBe('{"n":1}\n')
  })

  it('writes what it holds when the process exits, by process.exit or an uncaught exception', async () => {
    const dir = await tempDir()
    for (const [name, end] of [
      ['exit', 'process.exit(0)'],
      ['throw', 'setImmediate(() => { throw new Error("boom") })'],
    ] as const) {
      const file = join(dir, `${name}.log`)
      const status = await child(
        `const d = logDestination(${JSON.stringify(file)}, { flushMs: 60_000 })
         setTimeout(() => { for (let n = 0; n < 3; n++) d.write('{"n":' + n + '}\\n'); ${end} }, 50)`,
      )
      expect(status).toBe(name === 'exit' ? 0 : 1)
      expect(await read(file)).toBe('{"n":0}\n{"n":1}\n{"n":2}\n')
    }
  })

  it('loses at most what it held when the process is killed outright (SIGKILL)', async () => {
    const file = join(await tempDir(), 'killed.log')
    await child(
      `const d = logDestination(${JSON.stringify(file)}, { flushMs: 60_000 })
       setTimeout(() => { d.write('{"held":1}\\n'); console.log('written'); setInterval(() => {}, 1000) }, 50)`,
      'SIGKILL',
    )
    expect(await read(file)).toBe('')
  })
})
