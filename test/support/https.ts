/** GET over HTTPS presenting a client certificate (fetch cannot), or over plain HTTP. */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface Answer {
  status: number
  body: string
}

export type Tls = { ca: Buffer; cert?: Buffer; key?: Buffer }

/** GET over HTTPS with `tls` (a client certificate when it has one), or plain HTTP without. */
export function get(url: string, tls?: Tls): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const done = (res: IncomingMessage) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    }
    const req = tls ? httpsRequest(url, { ...tls, agent: false }, done) : httpRequest(url, done)
    req.on('error', reject)
    req.end()
  })
}

/** The OperationOutcome's error code of an answer. */
export const codeOf = (a: Answer): string =>
  JSON.parse(a.body).issue[0].details.coding[0].code as string
