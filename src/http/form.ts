import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { AppEnv } from './env.js'
import { HttpError } from './errors.js'

export const FORM = 'application/x-www-form-urlencoded'

/** Largest POST body read: a search is a few parameters; an identifier is at most 2 KiB. */
export const MAX_FORM_BYTES = 8 * 1024

/** True for `application/x-www-form-urlencoded`, with no charset or UTF-8 (WHATWG URL §5.1). */
function isForm(contentType: string | undefined): boolean {
  if (!contentType) return false
  const [type, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase())
  if (type !== FORM) return false
  return params.every((p) => !p.startsWith('charset=') || /^charset="?utf-8"?$/.test(p))
}

/**
 * For POST searches (FHIR R4 http.html#search: `POST [base]/[type]/_search`, form body): any
 * other content type is 415; a body over `maxBytes` is 413 (by Content-Length before reading, or
 * counted by hono's body limit as a chunked body streams in). Neither answer echoes the body.
 */
export function formBody({ maxBytes = MAX_FORM_BYTES } = {}): MiddlewareHandler<AppEnv> {
  const tooLarge = () =>
    new HttpError(
      413,
      'too-long',
      'ERR_BODY_TOO_LARGE',
      `the form body is larger than ${maxBytes} bytes`,
    )
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge()
    },
  })
  return async function formBodyMiddleware(c, next) {
    if (!isForm(c.req.header('Content-Type'))) {
      throw new HttpError(
        415,
        'not-supported',
        'ERR_CONTENT_TYPE_UNSUPPORTED',
        `POST _search takes ${FORM} (UTF-8)`,
        { 'Accept-Post': FORM },
      )
    }
    // With a Content-Length alone, the size is known before a byte is read: node's HTTP parser
    // delivers exactly that many bytes (and refuses a request that also has Transfer-Encoding).
    // Checking the header here, not through hono's body limit, leaves the body to be read
    // straight from the socket: the limit's `c.req.raw.body` builds a web Request and a
    // ReadableStream around every body, which cost a POST search a sixth of its CPU time.
    const length = c.req.header('Content-Length')
    if (length !== undefined && /^\d{1,15}$/.test(length) && !c.req.header('Transfer-Encoding')) {
      if (Number(length) > maxBytes) throw tooLarge()
      return next()
    }
    // The limit reads a chunked body itself before the handler runs: a failure there is the
    // client's; once the handler runs, its errors are its own.
    let reached = false
    try {
      return await limit(c, async () => {
        reached = true
        await next()
      })
    } catch (cause) {
      if (reached || cause instanceof HttpError) throw cause
      throw unreadable()
    }
  }
}

const unreadable = () =>
  new HttpError(400, 'invalid', 'ERR_BODY_UNREADABLE', 'the request body could not be read')

/**
 * The form body as text. A body the client fails to deliver (aborted, reset, a malformed chunked
 * encoding) is the client's error, 400, never a database outage: the stream's own error codes
 * (ECONNRESET, EPIPE) are also what a lost database connection reports.
 */
export async function readFormBody(c: Context<AppEnv>): Promise<string> {
  try {
    return await c.req.text()
  } catch (cause) {
    if (cause instanceof HttpError) throw cause // the body limit's 413
    throw unreadable()
  }
}
