/**
 * Where `npm run bench` writes in BENCHMARKS.md: only between two markers, so the hand-written
 * text around them (targets, analysis) stays; the whole file is then formatted with the
 * project's Prettier settings, so it passes `npm run lint`.
 */
import { readFile, writeFile } from 'node:fs/promises'

export const BEGIN = '<!-- npm run bench: begin (generated; edit outside these markers) -->'
export const END = '<!-- npm run bench: end -->'

/** The document with the part between the markers replaced by `generated`. */
export function replaceGenerated(document: string, generated: string, name: string): string {
  const begin = document.indexOf(BEGIN)
  const end = document.indexOf(END, begin + BEGIN.length)
  if (begin === -1 || end === -1) {
    throw new Error(`${name} has no ${BEGIN} ... ${END} markers: add them where the results go`)
  }
  return `${document.slice(0, begin + BEGIN.length)}\n\n${generated.trim()}\n\n${document.slice(end)}`
}

export async function formatMarkdown(text: string, file: string): Promise<string> {
  const prettier = await import('prettier')
  const options = (await prettier.resolveConfig(file)) ?? {}
  return prettier.format(text, { ...options, filepath: file })
}

/** Writes `generated` between the markers of `file`; the rest of the file is kept. */
export async function writeGenerated(file: string, generated: string): Promise<void> {
  const document = await readFile(file, 'utf8')
  await writeFile(file, await formatMarkdown(replaceGenerated(document, generated, file), file))
}
