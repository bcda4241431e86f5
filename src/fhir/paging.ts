/**
 * Paging of search results (FHIR R4 search, "Paging"): `_count` results per page from
 * `startIndex` (0-based, as BFD's paging), with first/previous/next/last links.
 */

/** Results per page when `_count` is absent. */
export const DEFAULT_COUNT = 10
/** Most results per page; a larger `_count` is lowered to it (FHIR lets a server return fewer). */
export const MAX_COUNT = 100

export interface Paging {
  /** Results per page, 0 to MAX_COUNT; 0 asks for the total only. */
  count: number
  /** Index of the first result on the page; past the end gives an empty page. */
  startIndex: number
}

/** The results on the page. */
export function pageOf<T>(all: readonly T[], paging: Paging): T[] {
  return all.slice(paging.startIndex, paging.startIndex + paging.count)
}

/**
 * first, previous (when not on the first page), next (when results follow) and last, for a
 * result of `total`; `url(startIndex)` writes a link. None for `_count=0`, which asks for the
 * total only. A page past the end links back to the last page.
 */
export function pagingLinks(
  total: number,
  paging: Paging,
  url: (startIndex: number) => string,
): { relation: string; url: string }[] {
  const { count, startIndex } = paging
  if (count === 0) return []
  const last = total === 0 ? 0 : Math.floor((total - 1) / count) * count
  const links = [{ relation: 'first', url: url(0) }]
  if (startIndex > 0) {
    links.push({ relation: 'previous', url: url(Math.max(0, Math.min(startIndex - count, last))) })
  }
  if (startIndex + count < total) links.push({ relation: 'next', url: url(startIndex + count) })
  links.push({ relation: 'last', url: url(last) })
  return links
}
