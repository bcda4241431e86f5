/* global process, performance, URL */
/**
 * `npm run build`: compiles the gateway and its production commands to dist/ with esbuild.
 *   dist/index.js                                        the gateway (node dist/index.js)
 *   dist/keys.js, seed.js, encrypt.js, legacy-hash.js   the commands an operator runs
 *   dist/migrations/                                     the schema migrations the gateway applies
 * Everything sits in one folder, so paths the code finds beside itself (../package.json,
 * ./migrations/) hold in dist/ as in src/. npm packages stay imports (node_modules is needed);
 * the workspace's partner library (@sealed-search/client, mapped to its sources by tsconfig.json
 * "paths") is bundled, so dist/ does not need packages/client built.
 * `--if-needed` builds only when dist/ is missing or older than a source file (npm start does).
 * Plain JavaScript on purpose: production runs it (npm start) without TypeScript tooling.
 */
import { cp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(ROOT, 'dist')
const STAMP = '.built'
/** The commands compiled beside the gateway; fuzz and the benches stay development tools (tsx). */
export const COMMANDS = ['keys', 'seed', 'encrypt', 'legacy-hash', 'logs-scan']
/** What the build reads: the gateway, the commands, the partner library it bundles, the settings. */
const INPUTS = [
  'src',
  'scripts',
  'packages/client/src',
  'packages/client/package.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
]

const USAGE = `usage: npm run build [-- --if-needed]

Compiles src/index.ts and the commands ${COMMANDS.join(', ')} to dist/ (esbuild, ESM, Node 20).
  --if-needed   build only when dist/ is missing or older than a source file (without
                esbuild, a production install, an existing dist/ is used as it is)
  -h, --help    this text`

async function newest(path) {
  const s = await stat(path).catch(() => undefined)
  if (!s) return 0
  if (!s.isDirectory()) return s.mtimeMs
  let max = s.mtimeMs
  for (const entry of await readdir(path)) {
    if (entry === 'node_modules' || entry === '__pycache__') continue
    max = Math.max(max, await newest(join(path, entry)))
  }
  return max
}

/** The build is current when its stamp is newer than every input. */
export async function isCurrent() {
  const built = await stat(join(OUT, STAMP)).then(
    (s) => s.mtimeMs,
    () => 0,
  )
  if (!built) return false
  for (const input of INPUTS) if ((await newest(join(ROOT, input))) > built) return false
  return true
}

async function hasBuild() {
  return stat(join(OUT, STAMP)).then(
    () => true,
    () => false,
  )
}

async function esbuildInstalled() {
  return import('esbuild').then(
    () => true,
    () => false,
  )
}

async function loadEsbuild() {
  try {
    return await import('esbuild')
  } catch {
    throw new Error(
      'dist/ is missing or older than the sources, and esbuild (a development dependency) is ' +
        'not installed: run npm ci && npm run build, or deploy a dist/ built elsewhere',
    )
  }
}

export async function build() {
  const esbuild = await loadEsbuild()
  const started = performance.now()
  // Built next to dist/ and swapped in whole: a running gateway never sees half a build.
  const temp = `${OUT}.${process.pid}.tmp`
  await rm(temp, { recursive: true, force: true })
  try {
    await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: [
        { in: 'src/index.ts', out: 'index' },
        ...COMMANDS.map((name) => ({ in: `scripts/${name}.ts`, out: name })),
      ],
      outdir: temp,
      bundle: true,
      splitting: true,
      chunkNames: 'chunk-[hash]',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
    })
    await cp(join(ROOT, 'src/db/migrations'), join(temp, 'migrations'), { recursive: true })
    await writeFile(join(temp, STAMP), new Date().toISOString() + '\n')
    const old = `${OUT}.${process.pid}.old`
    await rename(OUT, old).catch((error) => {
      if (error.code !== 'ENOENT') throw error
    })
    await rename(temp, OUT)
    await rm(old, { recursive: true, force: true })
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  process.stderr.write(`built ${relative(process.cwd(), OUT) || '.'}/ in ${seconds} s\n`)
}

async function main() {
  let values
  try {
    ;({ values } = parseArgs({
      options: { 'if-needed': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }))
  } catch (error) {
    process.stderr.write(`error: ${error.message} (usage: npm run build -- --help)\n`)
    process.exit(2)
  }
  if (values.help) return void process.stdout.write(USAGE + '\n')
  if (values['if-needed'] && (await isCurrent())) return
  // A production install (npm prune --omit=dev, which also rewrites package-lock.json) has no
  // esbuild: it runs the build it was deployed with.
  if (values['if-needed'] && (await hasBuild()) && !(await esbuildInstalled())) return
  await build()
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`sealed-search: build failed: ${error.message}\n`)
    process.exit(1)
  })
}
