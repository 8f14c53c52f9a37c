import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'reports/junit.xml' },
    coverage: {
      enabled: Boolean(process.env.CI),
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text-summary', 'lcov', 'cobertura'],
      reportsDirectory: 'reports/coverage',
    },
  },
});
