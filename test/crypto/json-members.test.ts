import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { topLevelMemberCount, topLevelMemberNames } from '../../src/crypto/json-members.js'

describe('topLevelMemberCount', () => {
  it('counts what topLevelMemberNames lists, for any JSON object text', () => {
    const objects = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 })
    fc.assert(
      fc.property(objects, fc.constantFrom(0, 2), (value, indent) => {
        const json = JSON.stringify(value, null, indent)
        expect(topLevelMemberCount(json)).toBe(topLevelMemberNames(json).length)
        expect(topLevelMemberCount(json)).toBe(Object.keys(value).length)
      }),
    )
  })

  it('counts a repeated name twice, so the text has more members than the parsed object', () => {
    const json = '{"a":1, "b":{"a":2,"c":[{"d":3}]},"e\\"":"x:y",\n "a" : 4}'
    expect(topLevelMemberCount(json)).toBe(4)
    expect(Object.keys(JSON.parse(json) as object)).toHaveLength(3)
  })
})
