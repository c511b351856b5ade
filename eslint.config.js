// Lint: ESLint with typescript-eslint's type-checked rules. Chosen over Biome (December 2026) for
// floating promises: typescript-eslint asks the TypeScript checker what a call returns, so a
// promise from a library's types (fs/promises, better-sqlite3) is caught; Biome 2.6's own
// inference caught floating promises of our own functions but missed `writeFile(...)`. Formatting
// is Prettier's (`.prettierrc.json`); `make lint` runs both.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**', 'demo/**', 'bench/out/**', 'test/fixtures/**', 'test/cases/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // The tools are checked as tsconfig.json builds them (an index read may be missing); tests and
      // the bench as tsconfig.tests.json does (see there).
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The ones this choice is for.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Parsed JSON is `any` by nature here: session lines are read field by field, checked as they go.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // tsc's noUnusedLocals covers these; `_`-prefixed names are meant.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Async signatures are kept where a caller awaits an answer that may later take real waiting.
      '@typescript-eslint/require-await': 'off',
      // An empty catch is a decision, commented where it is made.
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // The generator is built with the tools (make demo uses it).
    ignores: ['bench/gen-home.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.tests.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    // tap runs the subtests it is handed, awaited or not, and its callbacks are async by habit.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }] },
      ],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
