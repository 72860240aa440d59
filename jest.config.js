/** Every test tier runs from `npm test`; each tier is also runnable alone (see package.json). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  setupFiles: ['<rootDir>/tests/helpers/jest-setup.ts'],
  testTimeout: 30000,
  // e2e tests start real servers; two workers fit this 2-core machine.
  maxWorkers: 2,
};
