import type { Patient } from './patient.js'

export interface BundleLinks {
  /** The search as received; must hold no plaintext identifier. */
  self: string
  /** Base of the FHIR endpoint, e.g. https://host/v2/fhir */
  fhirBase: string
}

/** One page of a larger result (FHIR R4 search §3.1.1.3, paging). */
export interface BundlePage {
  /** Matches in the whole result, not only on this page. */
  total: number
  /** `first`, `previous`, `next`, `last`, after `self`; like `self`, never a plaintext identifier. */
  links: { relation: string; url: string }[]
}

/**
 * A searchset Bundle (FHIR R4 §3.1.1.2). `patients` is the page shown; `page` tells the rest;
 * `lastUpdated` is when the result last changed (not the time of the request).
 */
export function searchsetBundle(
  patients: Patient[],
  links: BundleLinks,
  lastUpdated: Date,
  page?: BundlePage,
) {
  return {
    resourceType: 'Bundle' as const,
    id: crypto.randomUUID(),
    meta: { lastUpdated: lastUpdated.toISOString() },
    type: 'searchset' as const,
    total: page?.total ?? patients.length,
    link: [{ relation: 'self', url: links.self }, ...(page?.links ?? [])],
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
