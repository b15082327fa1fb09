const base = require('./jest.config');

/**
 * `npm run test:e2e`: the end-to-end simulations of `npm run simulate` (test/simulate/), which train and serve real
 * models for minutes; `npm test` runs everything else.
 */
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/simulate/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
