/** Every test tier runs from `npm test`; each tier is also runnable alone (see package.json). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
    // jose 6 ships only ES modules (Node itself loads them through require); jest's CommonJS
    // runtime needs them compiled.
    '^.+/node_modules/jose/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  setupFiles: ['<rootDir>/tests/helpers/jest-setup.ts'],
  testTimeout: 30000,
  // e2e tests start real servers; two workers fit this 2-core machine.
  maxWorkers: 2,
};
