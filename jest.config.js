const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // Jest's default (cores − 1) is a single worker on the 2-core CI machine, which then idles while a test waits on
  // an emulator, a Python subprocess or a browser. Two workers at least; at most cores − 1 on larger machines.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The end-to-end simulations (minutes of real training) run as their own step: `npm run test:e2e`.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/simulate/'],
  // Type checking is `npm run lint`'s job (tsc --noEmit); tests transpile only, which keeps the suite fast.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  setupFiles: ['<rootDir>/test/setup.ts'],
  snapshotSerializers: ['<rootDir>/test/support/snapshot-serializer.ts'],
  testTimeout: 60000,
};
