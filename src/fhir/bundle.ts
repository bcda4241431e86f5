import type { Patient } from './patient.js'

export interface BundleLinks {
  /** The search as received; must hold no plaintext identifier. */
  self: string
  /** Base of the FHIR endpoint, e.g. https://host/v2/fhir */
  fhirBase: string
}

/** A searchset Bundle (FHIR R4 §3.1.1.2). */
export function searchsetBundle(patients: Patient[], links: BundleLinks, now: Date) {
  return {
    resourceType: 'Bundle' as const,
    id: crypto.randomUUID(),
    meta: { lastUpdated: now.toISOString() },
    type: 'searchset' as const,
    total: patients.length,
    link: [{ relation: 'self', url: links.self }],
    ...(patients.length
      ? {
          entry: patients.map((resource) => ({
            fullUrl: `${links.fhirBase}/Patient/${resource.id}`,
            resource,
            search: { mode: 'match' as const },
          })),
        }
      : {}),
  }
}
