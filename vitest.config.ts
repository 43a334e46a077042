import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 * - unit: no services, fast (`*.test.ts`);
 * - real: talks to the real MariaDB, Redis and Kafka started by tests/infra/up
 *   (`*.real.test.ts` and everything under tests/integration).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.real.test.ts', 'tests/integration/**', 'webapp/**'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'real',
          include: ['**/*.real.test.ts', 'tests/integration/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'webapp/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
