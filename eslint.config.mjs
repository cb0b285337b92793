// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/**
 * The layers of src/, top to bottom: the app's own files at the top of src/
 * (main, cluster, cli, app.*) compose everything; then admin → auth → users
 * → mail, audit, health → the infrastructure (common, config, database,
 * logging, metrics, rate-limit). An import may only run down. A folder named
 * here may not import the ones listed for it (nor the app's files).
 */
const APP_FILES = String.raw`(^|/)(main|cluster|cli|app\.(module|entities|setup|cli))$`;
const folders = (...names) => String.raw`(^|/)(${names.join('|')})(/|$)`;
const LAYERS = [
  [['admin'], []],
  [['auth'], ['admin']],
  [['users'], ['admin', 'auth']],
  [
    ['mail', 'audit', 'health'],
    ['admin', 'auth', 'users'],
  ],
  [
    ['common', 'config', 'database', 'logging', 'metrics', 'rate-limit'],
    ['admin', 'auth', 'users', 'mail', 'audit', 'health'],
  ],
];
const layering = LAYERS.map(([layer, above]) => ({
  files: layer.map((name) => `src/${name}/**/*.ts`),
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: APP_FILES,
            message: 'Only the top-level app files compose the app; nothing imports them back.',
          },
          ...(above.length > 0
            ? [
                {
                  regex: folders(...above),
                  message: `src/${layer.join(', ')} sits below ${above.join(', ')}: imports run down the layers (admin → auth → users → mail/audit → infrastructure).`,
                },
              ]
            : []),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'data/',
      'coverage/',
      'bench/results/',
      'test-results/',
      'eslint.config.mjs',
      'jest.config.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/require-await': 'error',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'all'],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The web page: plain ES modules for the browser, no types, no build step.
    files: ['public/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: 'module',
      parserOptions: { projectService: false },
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'fetch',
          'localStorage',
          'sessionStorage',
          'history',
          'location',
          'confirm',
          'setTimeout',
          'clearTimeout',
          'CSS',
          'HTMLButtonElement',
          'FormData',
          'URL',
          'Intl',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // The benchmark, the examples and the tests' helper servers: plain Node scripts.
    files: ['bench/**/*.mjs', 'examples/**/*.mjs', 'test/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: 'module',
      parserOptions: { projectService: false },
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'performance',
          'fetch',
          'setTimeout',
          'setInterval',
          'clearInterval',
          'URL',
          'Buffer',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Response bodies are untyped JSON in end-to-end tests.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  ...layering,
);
