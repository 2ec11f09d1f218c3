import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Import boundaries (the dependency rule). Core imports only shared/ and core/; the edges
 * (store, http, jobs, cli, config) import core, never the reverse; nothing in src/ imports test code.
 * ESLint does not merge the options of one rule across config objects, so the core rule repeats the src rule.
 */
const noTestImports = {
  regex: '^(\\.\\.?/)+(.*/)?test/',
  message: 'src/ never imports test code: move the helper into src/ (or the test into test/).',
};
/** Layers core must not import. */
const CORE_FORBIDDEN = [
  'store',
  'http',
  'jobs',
  'cli',
  'config',
  // 'channels' joins this list once core no longer imports channel.ts and channel-errors.ts.
];
const noEdgeImportsFromCore = {
  regex: `^(\\.\\.?/)+(.*/)?(${CORE_FORBIDDEN.join('|')})/`,
  message:
    'core imports only shared/ and core/: declare a port in src/core (domain types) and implement it in the edge.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'data/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noTestImports] }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noTestImports, noEdgeImportsFromCore] }] },
  },
  {
    files: ['src/cli/**', 'bench/**', 'scripts/**', 'src/simulator/**', 'bin/**', '.ci/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
