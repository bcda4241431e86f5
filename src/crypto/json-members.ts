/**
 * The member names of a JSON object's top level, in order, duplicates kept. JSON.parse keeps the
 * last of two equal names (RFC 8259 §4 leaves it open), so a header that repeats a member could
 * mean one thing to us and another to a library that keeps the first: RFC 7516 §4 says such a
 * header must be refused. Call it only on text JSON.parse has accepted as an object.
 */
export function topLevelMemberNames(json: string): string[] {
  const names: string[] = []
  let depth = 0
  let i = 0
  while (i < json.length) {
    const ch = json[i]!
    if (ch === '"') {
      const start = i
      i++
      while (json[i] !== '"') i += json[i] === '\\' ? 2 : 1
      i++
      if (depth === 1) {
        let j = i
        while (/\s/.test(json[j] ?? '')) j++
        if (json[j] === ':') names.push(JSON.parse(json.slice(start, i)) as string)
      }
      continue
    }
    if (ch === '{' || ch === '[') depth++
    else if (ch === '}' || ch === ']') depth--
    i++
  }
  return names
}

export function hasDuplicateMember(json: string): boolean {
  const names = topLevelMemberNames(json)
  return new Set(names).size !== names.length
}

/**
 * How many members the top level of a JSON object's text has, duplicates counted: the same scan
 * as topLevelMemberNames without decoding the names. JSON.parse keeps one property per distinct
 * name, so the text repeats a name exactly when this count exceeds the parsed object's key count.
 */
export function topLevelMemberCount(json: string): number {
  let count = 0
  let depth = 0
  let i = 0
  while (i < json.length) {
    const ch = json.charCodeAt(i)
    if (ch === 0x22 /* " */) {
      i++
      while (json.charCodeAt(i) !== 0x22) i += json.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1
      i++
      if (depth === 1) {
        let j = i
        // RFC 8259 §2: insignificant whitespace is space, tab, line feed and carriage return.
        while (json[j] === ' ' || json[j] === '\t' || json[j] === '\n' || json[j] === '\r') j++
        if (json[j] === ':') count++
      }
      continue
    }
    if (ch === 0x7b || ch === 0x5b) depth++
    else if (ch === 0x7d || ch === 0x5d) depth--
    i++
  }
  return count
}
