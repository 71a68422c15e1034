import type { Config } from 'jest';

// Type checking is done once by `npm run typecheck`; ts-jest only transpiles here
// (isolatedModules in tsconfig), which keeps the suite fast.
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // tests/infra needs the Bicep CLI and runs as `npm run test:infra` (.ci/run runs both).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/infra/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Integration suites start real servers; give slow CI machines room.
  testTimeout: 30_000,
  setupFiles: ['<rootDir>/tests/support/quietTestMode.ts'],
  reporters: ['default', '<rootDir>/tests/support/summaryReporter.cjs'],
  // Two cores: more workers than that only makes the integration suites fight.
  maxWorkers: 2,
};

export default config;
