// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * Which way imports go (docs/architecture.md). A later block replaces the rule's options for its
 * files, so each folder's block repeats what all of src/ refuses.
 */
const SHIPPED = {
  regex: '(^|/)(dev|bench)(/|$)',
  message: 'src/ is what ships: it never imports dev/ or bench/.',
};
const SDK = {
  regex: '^(@azure/|jose$)',
  message: 'src/domain is plain TypeScript: SDKs are reached through src/infra.',
};
const layer = (...patterns) => ['error', { patterns: [SHIPPED, ...patterns] }];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      '.dev/**',
      'examples/**/dist/**',
      'clients/*/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': layer() } },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': layer(SDK, {
        regex: '^\\.\\./',
        message: 'src/domain imports nothing of ours outside itself (no infra, http, config).',
      }),
    },
  },
  {
    files: ['src/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': layer({
        regex: '^\\.\\./(infra|http|functions|runtime|app)(/|$)',
        message:
          'src/contracts describes the wire from domain values only (no infra, no services).',
      }),
    },
  },
  {
    files: ['src/http/**/*.ts', 'src/infra/**/*.ts'],
    rules: {
      'no-restricted-imports': layer({
        regex: '^\\.\\./(functions|runtime|app)(/|$)',
        message: 'only src/app.ts composes the services; http and infra are handed what they need.',
      }),
    },
  },
  {
    // Developer tooling talks to a terminal on purpose.
    files: ['dev/**', 'bench/**', '.ci/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', module: 'writable', console: 'readonly' },
    },
  },
);
