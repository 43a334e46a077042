/** The message DB's schema migrations (`src/migrations/`, copied beside a bundle by the build). message-write applies them. */
import { fileURLToPath } from 'node:url';
import { type Migration, readMigrations } from '@parley/runtime';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** @example await migrate(spec, await messageMigrations()) */
export const messageMigrations = (): Promise<Migration[]> => readMigrations(MIGRATIONS_DIR);
