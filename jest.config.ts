import os from 'node:os';
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
  // clients/js is an ES module package: its sources import each other as `./name.js`.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // Integration suites start real servers; give slow CI machines room.
  testTimeout: 30_000,
  setupFiles: ['<rootDir>/tests/support/quietTestMode.ts'],
  reporters: ['default', '<rootDir>/tests/support/summaryReporter.cjs'],
  // One worker per core (jest's default leaves one idle): the integration suites mostly wait on
  // the processes they start. `--maxWorkers` on the command line still wins.
  maxWorkers: os.availableParallelism(),
};

export default config;
