// Lint rules for the library, the worker, the tests and the scripts: typescript-eslint's type-aware
// recommended set, so floating promises and unsafe `any` flows are caught where tsc alone is silent.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What plain JavaScript files (scripts, child-process helpers) may use without importing it. */
const NODE_GLOBALS = Object.fromEntries(
  ['process', 'console', 'performance', 'WebAssembly', 'URL', 'TextEncoder', 'TextDecoder', 'setTimeout', 'clearTimeout',
    'setImmediate', 'queueMicrotask', 'SharedArrayBuffer', 'Atomics', 'Buffer', 'AbortController', 'structuredClone']
    .map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', 'test/fixtures/**/*.mjs', 'examples/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // vitest's asymmetric matchers (expect.stringMatching, expect.any) are typed `any`.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: NODE_GLOBALS },
  },
);
