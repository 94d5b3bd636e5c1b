// ESLint (flat config). `npm run lint` runs it with Prettier, clang-format and shellcheck.
// TypeScript files get typescript-eslint's type-aware rules through the project service (each file
// is checked against the tsconfig.json that covers it); plain JavaScript (*.mjs in scripts/, bench/,
// test/helpers/) is in no tsconfig, so it gets the rules that need no types. Formatting is
// Prettier's alone: eslint-config-prettier comes last and turns every layout rule off.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // syscall-table.ts is data generated from the kernel headers (scripts/gen-syscall-table.mjs).
  globalIgnores(['dist/', 'dist-check/', 'build/', 'tmp/', '.vagrant/', 'node_modules/', 'src/runtime/seccomp/syscall-table.ts']),

  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
  },
  js.configs.recommended,

  {
    files: ['**/*.ts', '**/*.mts'],
    // strictTypeChecked is recommendedTypeChecked plus the rules that catch dead or misleading code
    // (unnecessary assertions, conversions and template literals, deprecated APIs, spreads of strings,
    // `any` in catch callbacks); the few it adds that only restate a style are turned off below.
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: {
        // Each file is typed by the tsconfig.json that includes it; vitest.config.ts at the root is
        // in none, so the default project (tsconfig.json's options) types it.
        projectService: { allowDefaultProject: ['vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // In strictTypeChecked already; named here because they are the tree's promises: no `any`
      // anywhere (module boundaries included: `unknown`, then parse), and no promise left unhandled.
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Numbers and booleans print as expected in a message; objects, nullish values and `any` do not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // With noUncheckedIndexedAccess, `xs[i]!` after a bounds check is the idiom, not a smell.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `() => void doIt()` vs `() => doIt()` is a matter of layout, not of correctness.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Validators check values whose static type came from JSON.parse and a cast: the check the rule
      // calls unnecessary is the one that catches a malformed file.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // `async` without `await` is how a function that must return a promise (an interface's method, a
      // callback typed `() => Promise<T>`) keeps its throws as rejections; dropping `async` to please
      // the rule would turn them into synchronous throws its callers do not expect.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a parameter kept for its position; a rest sibling drops a property on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },

  {
    // What src/ exports has its types written out: no inferred `any` (or surprise) crosses a module boundary.
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/explicit-module-boundary-types': 'error' },
  },

  {
    files: ['test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.any(String), expect.stringMatching(…), expect.objectContaining(…))
      // are typed `any`, so every expected object that holds one is an "unsafe" assignment or argument.
      // Member access, calls and returns on `any` stay errors: a parsed JSON output gets a type first.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },

  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },

  prettier,
);
