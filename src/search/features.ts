import type { LegacyHashConfig } from '../config/index.js'

/** The search paths an operator turns on for the migration; both off by default. */
export interface SearchFeatures {
  /** Legacy `mbi-hash` search (deprecated), with its Deprecation and Sunset dates. */
  legacyHash?: LegacyHashConfig | undefined
  /** Encrypted HICN search (`hicn-encrypted`). */
  hicnSearch?: boolean | undefined
}
