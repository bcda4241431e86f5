import { readFileSync } from 'node:fs'
import type { Env } from './environment.js'
import { ConfigError, InvalidValue } from './errors.js'
import { refuseOpenSecretFile } from './secret-file.js'
import { VARIABLES, type ValueOf, type VariableName } from './variables.js'

interface Found {
  value: string
  /** The variable it came from (NAME, or NAME_FILE for a secret read from a file). */
  source: string
}

/**
 * A secret given as NAME or as the file NAME_FILE (one of the two), with the file's final line
 * break removed. A file the group or others may read is refused. Errors name the variable and the
 * file, never the content.
 */
function secretText(env: Env, name: string): Found | undefined {
  const fileVariable = `${name}_FILE`
  const file = env[fileVariable]
  const direct = env[name]
  if (direct && file)
    throw new ConfigError(fileVariable, `set ${name} or ${fileVariable}, not both`)
  if (direct) return { value: direct, source: name }
  if (!file) return undefined
  refuseOpenSecretFile(fileVariable, file)
  let content: string
  try {
    content = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(fileVariable, `cannot read ${file}`, { cause: error })
  }
  const value = content.replace(/\r?\n$/, '')
  if (!value) throw new ConfigError(fileVariable, `${file} is empty`)
  return { value, source: fileVariable }
}

/** Whether a variable (or, for a secret, its NAME_FILE) is set to something. */
export function isSet(env: Env, name: VariableName): boolean {
  return Boolean(env[name] || (VARIABLES[name].secret && env[`${name}_FILE`]))
}

/**
 * Reads one variable through its row in the table: unset or empty gives the fallback; a value
 * the parser refuses stops start-up with a ConfigError naming the variable. A secret's value is
 * never quoted.
 */
export function readVariable<N extends VariableName>(env: Env, name: N): ValueOf<N> {
  const row = VARIABLES[name]
  const found: Found | undefined = row.secret
    ? secretText(env, name)
    : env[name]
      ? { value: env[name], source: name }
      : undefined
  if (!found) return row.fallback as ValueOf<N>
  try {
    return row.parse(found.value) as ValueOf<N>
  } catch (error) {
    if (!(error instanceof InvalidValue)) throw error
    const quoted = error.echo && !row.secret ? `, got "${found.value}"` : ''
    throw new ConfigError(found.source, `${error.message}${quoted}`)
  }
}
