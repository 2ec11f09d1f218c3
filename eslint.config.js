import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    files: ['src/cli/**', 'bench/**', 'scripts/**', 'src/simulator/**', 'bin/**', '.ci/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Dependency rule: core imports only src/shared and itself. Channel implementations live in src/channels/ and
    // import core; core declares the channel port (src/core/channel/) and gets per-kind facts injected.
    files: ['src/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/channels/**', '**/channels'],
              message: 'core must not import src/channels: declare what core needs in src/core (or src/shared).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
