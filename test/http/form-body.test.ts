import { connect } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEnv } from '../../src/http/env.js'
import { HttpError } from '../../src/http/errors.js'
import { FORM, formBody, MAX_FORM_BYTES, readFormBody } from '../../src/http/form.js'

// The form body over a real node:http server (the gateway's own adapter), as partners send it:
// with a Content-Length, or chunked.
let server: ServerType
let port = 0

beforeAll(async () => {
  const app = new Hono<AppEnv>()
  app.post('/form', formBody(), async (c) => c.text(`read ${(await readFormBody(c)).length}`))
  app.onError((err, c) =>
    err instanceof HttpError ? c.text(err.code, err.status) : c.text('unexpected', 500),
  )
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
      port = info.port
      resolve()
    })
  })
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

/** Sends `head` (and `body`, if any) on a fresh connection; the whole answer, once it closes. */
function exchange(head: string, body = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => {
      answer += d
      // One answer is all this test needs; the server may keep the connection open.
      if (/\r\n\r\n/.test(answer) && /\r\n0\r\n\r\n$|content-length: \d+/i.test(answer)) {
        const length = Number(/content-length: (\d+)/i.exec(answer)?.[1] ?? -1)
        const bodyStart = answer.indexOf('\r\n\r\n') + 4
        if (length >= 0 && answer.length - bodyStart >= length) socket.end()
      }
    })
    socket.on('end', () => resolve(answer))
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
    socket.write(head + body)
  })
}

const headFor = (headers: string) =>
  `POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${FORM}\r\nConnection: close\r\n${headers}\r\n`

describe('the form body over node:http', () => {
  it('reads a body declared by Content-Length, up to the limit', async () => {
    const body = 'a='.padEnd(MAX_FORM_BYTES, 'x')
    const answer = await exchange(headFor(`Content-Length: ${body.length}\r\n`), body)
    expect(answer).toMatch(/^HTTP\/1\.1 200/)
    expect(answer).toContain(`read ${MAX_FORM_BYTES}`)
  })

  it('refuses a Content-Length over the limit with 413 before the body is sent', async () => {
    // Headers only: the answer comes from the declared length, without waiting for a byte.
    const answer = await exchange(headFor(`Content-Length: ${MAX_FORM_BYTES + 1}\r\n`))
    expect(answer).toMatch(/^HTTP\/1\.1 413/)
    expect(answer).toContain('ERR_BODY_TOO_LARGE')
  })

  it('counts a chunked body as it streams in, and refuses it past the limit', async () => {
    const chunk = 'x'.repeat(1000)
    const chunks = Array.from({ length: 9 }, () => `${(1000).toString(16)}\r\n${chunk}\r\n`)
    const over = await exchange(
      headFor('Transfer-Encoding: chunked\r\n'),
      chunks.join('') + '0\r\n\r\n',
    )
    expect(over).toMatch(/^HTTP\/1\.1 413/)
    expect(over).toContain('ERR_BODY_TOO_LARGE')
    const small = await exchange(
      headFor('Transfer-Encoding: chunked\r\n'),
      `${(3).toString(16)}\r\na=b\r\n0\r\n\r\n`,
    )
    expect(small).toMatch(/^HTTP\/1\.1 200/)
    expect(small).toContain('read 3')
  })
})
