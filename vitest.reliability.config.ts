import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: crash-resume torture, bad input corpus, property tests, secrets
// and injection, against a real broker; prints a table of figures at the end.
export default defineConfig({
  test: {
    name: 'reliability',
    include: ['test/reliability/**/*.test.ts'],
    // The broker, and the flag servers and schema registry the secrets test uses for real.
    globalSetup: ['test/support/global-setup.ts', 'test/support/services-setup.ts'],
    pool: 'forks',
    // Two cores: one file at a time beside the broker and the demo services; the torture test
    // runs two migrations at once itself.
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 900_000,
    reporters: ['default', './test/reliability/table-reporter.ts'],
  },
});
