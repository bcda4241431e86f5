/**
 * Which dependencies run code when they are installed. package.json's `allowScripts` (npm 11.16+;
 * enforced from npm 12, which skips every dependency's install script it does not allow) names
 * each installed package that has one: allowed where the gateway needs it (pkcs11js compiles its
 * addon; esbuild checks its binary), denied where it does not. By name: npm honours a pinned
 * `name@version` only where the lockfile records each package's registry URL, which ours does not;
 * the lockfile's integrity hashes pin the versions. Checked here against node_modules itself, so
 * it holds under any npm: a dependency that gains an install script fails until it is reviewed.
 */
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

interface Manifest {
  name?: string
  version?: string
  scripts?: Record<string, string>
  allowScripts?: Record<string, boolean>
}

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const

/** Every package directory under `dir`/node_modules, scoped and nested ones included. */
async function packageDirs(dir: string): Promise<string[]> {
  const modules = join(dir, 'node_modules')
  if (!existsSync(modules)) return []
  const out: string[] = []
  for (const entry of await readdir(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const names = entry.name.startsWith('@')
      ? (await readdir(join(modules, entry.name))).map((n) => join(entry.name, n))
      : [entry.name]
    for (const name of names) {
      const path = join(modules, name)
      if (!existsSync(join(path, 'package.json'))) continue
      out.push(path, ...(await packageDirs(path)))
    }
  }
  return out
}

/** `name@version` of each installed package with an install script (npm's implied one too). */
async function withInstallScripts(root: string): Promise<string[]> {
  const found = new Set<string>()
  for (const dir of await packageDirs(root)) {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest
    const scripts = pkg.scripts ?? {}
    // npm runs `node-gyp rebuild` for a package with a binding.gyp and no install script.
    const implied = existsSync(join(dir, 'binding.gyp')) && !scripts.install && !scripts.preinstall
    if (pkg.name && (INSTALL_SCRIPTS.some((s) => scripts[s]) || implied)) {
      found.add(`${pkg.name}@${pkg.version}`)
    }
  }
  return [...found].sort()
}

describe("dependencies' install scripts", () => {
  it('are each allowed or denied by name in package.json', async () => {
    const root = JSON.parse(await readFile('package.json', 'utf8')) as Manifest
    const policy = root.allowScripts ?? {}
    const installed = await withInstallScripts('.')
    // The walk finds them: esbuild always, pkcs11js (optional) where it installed.
    expect(installed.some((id) => id.startsWith('esbuild@'))).toBe(true)
    if (existsSync('node_modules/pkcs11js')) {
      expect(installed.some((id) => id.startsWith('pkcs11js@'))).toBe(true)
    }
    const nameOf = (id: string) => id.slice(0, id.lastIndexOf('@'))
    expect(installed.filter((id) => typeof policy[nameOf(id)] !== 'boolean')).toEqual([])
    // Every entry is a bare name (see above) and names an installed package with an install
    // script (pkcs11js is optional: it may have failed to install here).
    const names = new Set(installed.map(nameOf))
    for (const key of Object.keys(policy)) {
      expect(key.slice(1), key).not.toContain('@')
      if (key !== 'pkcs11js') expect(names.has(key), key).toBe(true)
    }
  })
})
