/**
 * The path structure of a FHIR JSON document, without its values: `name[].given[]`,
 * `meta.profile[]`. Two kinds of element are named by their discriminator, as FHIR slicing names
 * them, because which slices are present is part of the shape: an extension by its `url`
 * (`extension[url=https://…/dual_01].valueCoding.code`) and an identifier by its `system`.
 * No other value appears in a path.
 */
export function jsonPaths(value: unknown, prefix = ''): Set<string> {
  const out = new Set<string>()
  walk(value, prefix, out)
  return out
}

function slice(element: unknown, arrayName: string): string {
  if (element && typeof element === 'object') {
    const o = element as Record<string, unknown>
    if (arrayName === 'extension' && typeof o.url === 'string') return `[url=${o.url}]`
    if (arrayName === 'identifier' && typeof o.system === 'string') return `[system=${o.system}]`
  }
  return '[]'
}

function walk(value: unknown, path: string, out: Set<string>): void {
  if (Array.isArray(value)) {
    const name = path.slice(path.lastIndexOf('.') + 1)
    for (const element of value) walk(element, `${path}${slice(element, name)}`, out)
    if (value.length === 0) out.add(`${path}[]`)
    return
  }
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      walk(child, path ? `${path}.${key}` : key, out)
    }
    return
  }
  out.add(path)
}
