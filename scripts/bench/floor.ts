/**
 * The floor the bench measures the gateway against: plain `node:http`, postgres.js (a pool of
 * DB_POOL_SIZE, 10 by default), the gateway's own lookup SQL (`findByMbi`), the row as JSON. No
 * framework, no FHIR mapping, no crypto, no logging: what a search costs when it is nothing but
 * the lookup. It takes the same request as the plaintext baseline (`POST /v2/fhir/Patient/_search`
 * with `identifier=<system>|<MBI>` in a form body), so one load script drives both.
 *
 * Started by scripts/bench.ts as its own process:
 *   node --import tsx scripts/bench/floor.ts   (DATABASE_URL, DATABASE_SCHEMA, DB_POOL_SIZE)
 * It prints `floor: listening on http://127.0.0.1:<port>` on stderr and stops on SIGTERM.
 */
import { createServer, type IncomingMessage } from 'node:http'
import { processEnvironment, readVariable } from '../../src/config/index.js'
import { findByMbi } from '../../src/db/beneficiaries.js'
import { createSql } from '../../src/db/sql.js'
import type { Mbi } from '../../src/identifiers/mbi.js'

const MAX_BODY = 8 * 1024

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => {
      text += chunk
      if (text.length > MAX_BODY) reject(new Error('body too large'))
    })
    request.on('end', () => resolve(text))
    request.on('error', reject)
  })
}

const env = processEnvironment()
const url = readVariable(env, 'DATABASE_URL')
if (!url) throw new Error('the floor needs DATABASE_URL')
const schema = readVariable(env, 'DATABASE_SCHEMA')
const sql = createSql({
  url,
  max: Number(readVariable(env, 'DB_POOL_SIZE') ?? 10),
  ...(schema ? { searchPath: schema } : {}),
})

const server = createServer(async (request, response) => {
  try {
    const identifier = new URLSearchParams(await body(request)).get('identifier') ?? ''
    const mbi = identifier.slice(identifier.indexOf('|') + 1) as Mbi
    const match = await findByMbi(sql, mbi)
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify(match))
  } catch {
    response.writeHead(400, { 'content-type': 'application/json' })
    response.end('{"error":"bad request"}')
  }
})

server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  process.stderr.write(`floor: listening on http://127.0.0.1:${port}\n`)
})

process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  void sql.end({ timeout: 1 }).then(() => process.exit(0))
})
