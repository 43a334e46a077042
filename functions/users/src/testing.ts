/** Test support for the real project: a migrated, throw-away users database pair. */
import { migrate, readMigrations, ShardedMysql } from '@parley/runtime';
import { freshShardSpec } from '@parley/tests/support/infra';
import { USERS_MIGRATIONS_DIR } from './user-store.mysql';

export interface FreshUsersDb {
  spec: string;
  db: ShardedMysql;
  /** Drops both databases and closes the pools. */
  drop(): Promise<void>;
}

/** Fresh databases (logical shards 0-31 on MariaDB A, 32-63 on B) with the users migrations applied. */
export async function freshUsersDb(): Promise<FreshUsersDb> {
  const spec = freshShardSpec('users');
  await migrate(spec, await readMigrations(USERS_MIGRATIONS_DIR));
  const db = ShardedMysql.fromSpec(spec, { connectionLimit: 4 });
  const drop = async () => {
    const pools = db.allPools();
    await Promise.all(
      db.map.targets().map((t, i) => {
        const name = new URL(t).pathname.slice(1);
        return pools[i]?.query(`DROP DATABASE IF EXISTS \`${name}\``);
      }),
    );
    await db.close();
  };
  return { spec, db, drop };
}
