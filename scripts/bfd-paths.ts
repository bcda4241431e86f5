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
import { parse, run, UsageError } from './cli.js'

const USAGE = `usage: npx tsx scripts/bfd-paths.ts DIR

Prints the JSON paths (no values) of BFD's v2 Patient responses in DIR, as in
test/vectors/bfd-patient-paths.json. DIR holds patientRead.json,
patientReadWithIncludeIdentifiers.json, patientByIdentifier.json and patientSearchById.json.

  -h, --help  this text`

const SOURCES = {
  patient: ['patientRead.json'],
  patientWithAddressFields: ['patientReadWithIncludeIdentifiers.json'],
  searchset: ['patientByIdentifier.json', 'patientSearchById.json'],
}

async function main(): Promise<void> {
  const { values, positionals } = parse(process.argv.slice(2), {})
  if (values.help) return void process.stdout.write(USAGE + '\n')
  if (positionals.length !== 1) throw new UsageError('give one directory')
  const dir = positionals[0]!
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

run(main, USAGE)
