import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    // Two cores: keep the machine responsive while a broker runs beside the tests.
    maxWorkers: 2,
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        // Flag servers and the schema registry (Unleash on PostgreSQL, flagd, Apicurio Registry),
        // each real and started once for these tests, beside their own broker.
        test: {
          name: 'services',
          include: ['test/services/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts', 'test/support/services-setup.ts'],
          testTimeout: 90_000,
          // On a fresh machine the setup builds flagd from source (minutes; .ci/run builds it first).
          hookTimeout: 900_000,
        },
      },
      {
        // Integration and end-to-end tests share one real broker, started once for them.
        test: {
          name: 'kafka',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
