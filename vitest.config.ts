import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // The workspace's partner library from its sources, as tsconfig.json "paths" does for tsc
    // and tsx; its build (dist/) is tested as partners install it, in test/client-package.test.ts.
    alias: {
      '@sealed-search/client': fileURLToPath(
        new URL('./packages/client/src/index.ts', import.meta.url),
      ),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
