import { Hono } from 'hono'
import { capabilityStatement } from '../../fhir/capability.js'
import { FHIR_JSON } from '../../fhir/systems.js'
import type { AppEnv } from '../env.js'

export function metadataRoutes(fhirBase: string, software: { name: string; version: string }) {
  const body = JSON.stringify(capabilityStatement(fhirBase, software))
  return new Hono<AppEnv>().get('/metadata', function capabilities(c) {
    c.header('Content-Type', FHIR_JSON)
    return c.body(body)
  })
}
