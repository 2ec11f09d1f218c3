import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Import boundaries (the dependency rule). Core imports only shared/ and core/; the edges (store, http, jobs, cli,
 * config, channels) import core, never the reverse; nothing in src/ imports test code. Channel implementations live
 * in src/channels/ and import core; core declares the channel port (src/core/channel/) and gets per-kind facts
 * injected. ESLint does not merge the options of one rule across config objects: the core rule repeats the src rule,
 * and every core boundary belongs in the one list below.
 */
const noTestImports = {
  regex: '^(\\.\\.?/)+(.*/)?test/',
  message: 'src/ never imports test code: move the helper into src/ (or the test into test/).',
};
/** Layers core must not import. */
const CORE_FORBIDDEN = ['store', 'http', 'jobs', 'cli', 'config', 'channels'];
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
    files: ['src/cli/**', 'bench/**', 'scripts/**', 'dev/**', 'bin/**', '.ci/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The service worker runs in the browser's worker scope.
    files: ['web/public/sw.js'],
    languageOptions: { globals: { self: 'readonly', caches: 'readonly', fetch: 'readonly' } },
  },
);
