/**
 * Versioned schema migrations, applied to every physical database of a
 * service's shard map. Each migration runs once per database, in version
 * order, recorded in `schema_migrations`; the database itself is created if
 * it does not exist (its name is the path of the shard URL).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { Logger } from '../logger';
import { ShardMap } from '../sharding/shard-map';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads `NNN_name.sql` files of a folder, ordered by NNN. */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (f) => ({
      version: Number.parseInt(f, 10),
      name: f.replace(/\.sql$/, ''),
      sql: await readFile(join(dir, f), 'utf8'),
    })),
  );
}

/** Applies pending migrations to every physical database in `spec`; returns how many ran. */
export async function migrate(
  spec: string,
  migrations: Migration[],
  log?: Logger,
): Promise<number> {
  let applied = 0;
  for (const target of ShardMap.parse(spec).targets()) {
    const url = new URL(target);
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (!/^[A-Za-z0-9_]+$/.test(database))
      throw new Error(`bad database name in ${url.host}/${database}`);
    url.pathname = '/';
    const admin = await mysql.createConnection({ uri: url.toString(), multipleStatements: true });
    try {
      await admin.query(
        `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
      );
      await admin.query(`USE \`${database}\``);
      await admin.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)',
      );
      // One migrator at a time per database, even when several processes start together.
      await admin.query('SELECT GET_LOCK(?, 60)', [`parley_migrate_${database}`]);
      try {
        const [rows] = await admin.query('SELECT version FROM schema_migrations');
        const done = new Set((rows as { version: number }[]).map((r) => r.version));
        for (const m of migrations) {
          if (done.has(m.version)) continue;
          await admin.query(m.sql);
          await admin.query('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [
            m.version,
            m.name,
          ]);
          log?.info({ database, host: url.host, migration: m.name }, 'migration applied');
          applied++;
        }
      } finally {
        await admin.query('SELECT RELEASE_LOCK(?)', [`parley_migrate_${database}`]);
      }
    } finally {
      await admin.end();
    }
  }
  return applied;
}
