import js from '@eslint/js'

/**
 * The key-agreement boundary (src/keys/ring/agreement.ts): outside src/keys/, no module can make,
 * import, hold or use a private key. It computes with `RingKey.agree()` and sees public JWKs.
 */
const PRIVATE_KEY_APIS = [
  'createPrivateKey',
  'createECDH',
  'ECDH',
  'createDiffieHellman',
  'diffieHellman',
  'generateKeyPair',
  'generateKeyPairSync',
  'KeyObject',
  'privateDecrypt',
]
const KEYS_MESSAGE =
  'Private keys stay in src/keys/: compute with RingKey.agree() (ring/agreement.ts).'
const PRIVATE_KEY_MODULE_EXPORTS = [
  'readPrivateKeyFile',
  'openPrivateJwk',
  'generateKey',
  'writeNewKey',
  'inProcessFromJwk',
  'ringKeyFromPrivateJwk',
  'PrivateJwk',
]
export const KEY_BOUNDARY_RULES = {
  'no-restricted-imports': [
    'error',
    {
      paths: ['node:crypto', 'crypto'].map((name) => ({
        name,
        importNames: PRIVATE_KEY_APIS,
        message: KEYS_MESSAGE,
      })),
      patterns: [
        {
          group: ['**/keys/*.js', '**/keys/*.ts', '**/keys/**/*.js', '**/keys/**/*.ts', '**/keys'],
          importNames: PRIVATE_KEY_MODULE_EXPORTS,
          message: KEYS_MESSAGE,
        },
        {
          group: ['**/keys/**/in-process.js', '**/keys/pkcs11/**', '**/keys/pkcs11*.js'],
          message: KEYS_MESSAGE,
        },
      ],
    },
  ],
  'no-restricted-syntax': [
    'error',
    {
      selector: 'ImportExpression[source.value=/^(node:)?crypto$/]',
      message: KEYS_MESSAGE,
    },
    {
      selector: "CallExpression[callee.name='require'][arguments.0.value=/^(node:)?crypto$/]",
      message: KEYS_MESSAGE,
    },
    { selector: "MemberExpression[property.name='privateKey']", message: KEYS_MESSAGE },
  ],
}
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules', '.data', 'coverage', 'dist', 'packages/*/dist'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['src/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['src/config/environment.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read the environment through src/config only.',
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/keys/**'],
    rules: KEY_BOUNDARY_RULES,
  },
  {
    // The HTTP layer parses, calls the search layer (src/search) and renders: it never reaches
    // the SQL modules itself (test/search/layering.test.ts checks the same from the source).
    // One no-restricted-imports per file wins, so this one repeats the key boundary's.
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...KEY_BOUNDARY_RULES['no-restricted-imports'][1],
          patterns: [
            ...KEY_BOUNDARY_RULES['no-restricted-imports'][1].patterns,
            {
              group: ['**/db', '**/db/**'],
              message: 'src/http reaches the database only through src/search.',
            },
          ],
        },
      ],
    },
  },
  {
    // Partner examples in plain JavaScript: Node (search.mjs) and the browser (browser.mjs).
    files: ['packages/*/examples/**/*.mjs'],
    languageOptions: {
      globals: { console: 'readonly', fetch: 'readonly', process: 'readonly' },
    },
  },
)
