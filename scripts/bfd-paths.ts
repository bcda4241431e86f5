/**
 * Prints the path structure (no values) of BFD's v2 Patient endpoint responses, for
 * test/vectors/bfd-patient-paths.json: `npx tsx scripts/bfd-paths.ts DIR`, where DIR holds
 * patientRead.json, patientReadWithIncludeIdentifiers.json, patientByIdentifier.json and
 * patientSearchById.json from BFD's test resources (CMSgov/beneficiary-fhir-data,
 * apps/bfd-server/bfd-server-war/src/test/resources/endpoint-responses/v2/).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { jsonPaths } from '../test/support/json-paths.js'

const SOURCES = {
  patient: ['patientRead.json'],
  patientWithAddressFields: ['patientReadWithIncludeIdentifiers.json'],
  searchset: ['patientByIdentifier.json', 'patientSearchById.json'],
}

async function main(): Promise<void> {
  const dir = process.argv[2]
  if (!dir) throw new Error('usage: npx tsx scripts/bfd-paths.ts DIR')
  const out: Record<string, string[]> = {}
  for (const [kind, files] of Object.entries(SOURCES)) {
    const paths = new Set<string>()
    for (const file of files) {
      const json: unknown = JSON.parse(await readFile(join(dir, file), 'utf8'))
      for (const p of jsonPaths(json)) paths.add(p)
    }
    out[kind] = [...paths].sort()
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n')
}

await main()
