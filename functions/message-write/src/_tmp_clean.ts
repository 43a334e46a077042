import mysql from 'mysql2/promise';
import { createRedis } from '@parley/runtime';
for (const [url, db] of [[process.env.MYSQL_A_URL!, 't_mwstart_0'], [process.env.MYSQL_B_URL!, 't_mwstart_1']]) {
  const c = await mysql.createConnection(url);
  await c.query(`DROP DATABASE IF EXISTS ${db}`);
  await c.end();
}
const r = createRedis(process.env.REDIS_URL!, 'clean');
console.log(await r.del('parley:members:r_1', 'parley:recent:r_1'));
r.disconnect();
