import { defineConfig } from 'vitest/config';

/**
 * Four projects:
 * - unit: no services, fast (`*.test.ts`, the web client's core included);
 * - real: talks to the real MariaDB, Redis and Kafka started by tests/infra/up
 *   (`*.real.test.ts` and everything under tests/integration);
 * - faults: faults injected into the real stack while a room chats (tests/faults), on its own
 *   services so it can kill them;
 * - browser: the web client in Chromium against the real stack (tests/browser; Chromium from
 *   `bash tests/infra/browser`; webapp/dist is built once per run by its global setup).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          // The web client's core (webapp/src) is plain TypeScript and runs here in node too.
          exclude: [
            '**/node_modules/**',
            '**/*.real.test.ts',
            'tests/integration/**',
            'tests/browser/**',
            'tests/faults/**',
            'webapp/!(src)/**',
          ],
          environment: 'node',
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
      {
        test: {
          // Faults on the real stack, on its own set of services (tests/faults/fault-infra.ts).
          name: 'faults',
          include: ['tests/faults/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['tests/browser/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
