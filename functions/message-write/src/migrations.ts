/** The message DB's schema migrations (`functions/message-write/migrations/`): message-write owns the schema. */
import { fileURLToPath } from 'node:url';
import { type Migration, readMigrations } from '@parley/runtime';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** @example await migrate(spec, await messageMigrations()) */
export const messageMigrations = (): Promise<Migration[]> => readMigrations(MIGRATIONS_DIR);
