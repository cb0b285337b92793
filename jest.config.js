// Unit specs sit beside their code; repository specs open a real database with
// the service's own options and migrations; end-to-end specs boot the real
// AppModule. The last two run on PostgreSQL (embedded PGlite by default, or
// TEST_DATABASE_URL).
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
// Some dependencies require packages that are ESM only: @fastify/static (Swagger
// UI's assets) content-disposition 3, otplib @scure/base and @noble/hashes.
// Node 20 loads them natively, Jest's CommonJS runtime does not, so Jest
// compiles those packages to CommonJS.
const esmOnly = [
  'content-disposition',
  '@scure/base',
  '@noble/hashes',
  'openid-client',
  'oauth4webapi',
  'jose',
];
const esmToCjs = [
  'ts-jest',
  { tsconfig: { allowJs: true, module: 'commonjs', ignoreDeprecations: '6.0' } },
];
const shared = {
  testEnvironment: 'node',
  rootDir: '.',
  transform: {
    '^.+\\.ts$': tsJest,
    [`node_modules/(${esmOnly.join('|')})/.+\\.js$`]: esmToCjs,
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
};
module.exports = {
  testTimeout: 60000,
  // One worker per core, at least two: most of an end-to-end file's time is
  // waiting (on the app's timers, a spawned process, a mail server), so files
  // run side by side even on two cores. Each file has its own store and app.
  maxWorkers: Math.max(2, require('node:os').availableParallelism()),
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    // Repositories on a real database (the same store as e2e), without the app or HTTP.
    {
      ...shared,
      displayName: 'repository',
      testMatch: ['<rootDir>/test/repositories/**/*.repo-spec.ts'],
    },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
    // The web page in Debian's Chromium (npm run test:browser; needs the built app).
    {
      ...shared,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
    },
  ],
};
