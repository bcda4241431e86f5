import { VARIABLES, type Variable } from './variables.js'

/** The README's configuration table, made from the variable table (before formatting). */

function shownDefault(row: Variable): string {
  if (row.shown !== undefined) return row.shown
  if (row.fallback === undefined) return 'none'
  return `\`${String(row.fallback)}\``
}

function names(name: string, row: Variable): string {
  return row.secret ? `\`${name}\` / \`${name}_FILE\`` : `\`${name}\``
}

export function configTableMarkdown(): string {
  const lines = [
    '| variable | section | type | default | meaning |',
    '| --- | --- | --- | --- | --- |',
  ]
  for (const [name, row] of Object.entries(VARIABLES) as [string, Variable][]) {
    const type = row.secret ? `${row.type}; secret` : row.type
    const cells = [names(name, row), `\`${row.section}\``, type, shownDefault(row), row.description]
    lines.push(`| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`)
  }
  return lines.join('\n') + '\n'
}
