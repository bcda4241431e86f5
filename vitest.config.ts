import { fileURLToPath } from 'node:url'
import { defineConfig, type ViteUserConfig } from 'vitest/config'

/** Process-level tests (fleets, standbys, PKCS#11 tokens, other languages): `npm run test:system`. */
const SYSTEM_TESTS = 'test/system/**/*.test.ts'

/** The suite's settings; `npm test` runs everything but test/system/, `npm run test:system` that. */
export function suite(system: boolean): ViteUserConfig {
  return defineConfig({
    resolve: {
      // The workspace's partner library from its sources, as tsconfig.json "paths" does for tsc
      // and tsx; its build (dist/) is tested as partners install it, in
      // test/system/packages/client-packed.test.ts.
      alias: {
        '@sealed-search/client': fileURLToPath(
          new URL('./packages/client/src/index.ts', import.meta.url),
        ),
      },
    },
    test: {
      include: system ? [SYSTEM_TESTS] : ['test/**/*.test.ts'],
      exclude: system ? ['**/node_modules/**'] : [SYSTEM_TESTS, '**/node_modules/**'],
      globalSetup: ['test/support/global-setup.ts'],
      setupFiles: ['test/support/setup.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: 'forks',
      // What a passing test printed is noise; a failing test's output is shown beside it.
      silent: 'passed-only',
    },
  })
}

export default suite(false)
