import type { Config } from 'jest';

// `npm run test:infra`: compiles infra/ once (globalSetup), then tests the compiled template.
// The default `npm test` run leaves this folder out: it needs the Bicep CLI (tests/infra/bicep.ts).
const config: Config = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/infra'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/tests/infra/globalSetup.ts',
  setupFiles: ['<rootDir>/tests/support/quietTestMode.ts'],
  reporters: ['default', '<rootDir>/tests/support/summaryReporter.cjs'],
  maxWorkers: 1,
};

export default config;
