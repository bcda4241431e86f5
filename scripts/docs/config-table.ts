import { format, resolveConfig } from 'prettier'
import { configTableMarkdown } from '../../src/config/index.js'

export const START = '<!-- config:start -->'
export const END = '<!-- config:end -->'

/**
 * The README with its configuration table (between the config markers) made again from the
 * variable table in src/config/variables.ts, formatted as `npm run lint` wants it.
 */
export async function withConfigTable(readme: string, readmePath: string): Promise<string> {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end < start) throw new Error(`the README has no ${START} ... ${END} block`)
  const table = await format(configTableMarkdown(), {
    ...(await resolveConfig(readmePath)),
    parser: 'markdown',
  })
  return `${readme.slice(0, start + START.length)}\n\n${table}\n${readme.slice(end)}`
}
