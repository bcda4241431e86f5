import { Hono } from 'hono'
import { capabilityStatement, type CapabilityFeatures } from '../../fhir/capability.js'
import { FHIR_JSON } from '../../fhir/systems.js'
import type { AppEnv } from '../env.js'

export function metadataRoutes(
  fhirBase: string,
  software: { name: string; version: string },
  features: CapabilityFeatures = {},
) {
  const body = JSON.stringify(capabilityStatement(fhirBase, software, features))
  return new Hono<AppEnv>().get('/metadata', function capabilities(c) {
    c.header('Content-Type', FHIR_JSON)
    return c.body(body)
  })
}
