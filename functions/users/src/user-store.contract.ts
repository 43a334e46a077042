/**
 * The one contract every UserStore adapter passes (memory in the unit
 * project, MySQL in the real one). Each test uses its own usernames, so the
 * suite can share one store (one database) across tests.
 */
import { randomBytes } from 'node:crypto';
import { newId, ParleyError } from '@parley/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord, UserStore } from './user-store';

export interface UserStoreHarness {
  store: UserStore;
  close?: () => Promise<void>;
}

/** A fresh lower-case namespace for one test's usernames, e.g. `k3f9a0`. */
export const namespace = (): string => `k${randomBytes(3).toString('hex')}`;

export const record = (username: string, over: Partial<UserRecord> = {}): UserRecord => ({
  id: newId('u'),
  username,
  displayName: username.toUpperCase(),
  passwordHash: `scrypt$2$1$1$c2FsdA==$${randomBytes(16).toString('base64')}`,
  ...over,
});

export function describeUserStoreContract(
  name: string,
  setup: () => Promise<UserStoreHarness>,
): void {
  describe(`UserStore contract: ${name}`, () => {
    let h: UserStoreHarness;
    const store = () => h.store;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h?.close?.();
    });

    it('a created user is found by id, by ids and by username (with its hash)', async () => {
      const r = record(`${namespace()}.alice`);
      const created = await store().create(r);
      const pub = { id: r.id, username: r.username, displayName: r.displayName };
      expect(created).toEqual(pub);
      expect(await store().byId(r.id)).toEqual(pub);
      expect(await store().byIds([r.id])).toEqual([pub]);
      expect(await store().byUsername(r.username)).toEqual(r);
    });

    it('unknown ids and usernames are absent, not errors', async () => {
      expect(await store().byId(newId('u'))).toBeNull();
      expect(await store().byUsername(`${namespace()}.nobody`)).toBeNull();
      expect(await store().byIds([newId('u'), newId('u')])).toEqual([]);
      expect(await store().byIds([])).toEqual([]);
    });

    it('a taken username is refused with username_taken and the first user is unchanged', async () => {
      const first = record(`${namespace()}.bob`);
      await store().create(first);
      const second = record(first.username, { displayName: 'Impostor' });
      const err = await store()
        .create(second)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParleyError);
      expect((err as ParleyError).code).toBe('username_taken');
      expect(await store().byUsername(first.username)).toEqual(first);
      expect(await store().byId(second.id)).toBeNull();
    });

    it('of concurrent sign-ups with one username exactly one succeeds', async () => {
      const username = `${namespace()}.race`;
      const contenders = Array.from({ length: 8 }, () => record(username));
      const results = await Promise.allSettled(contenders.map((r) => store().create(r)));
      const won = results.flatMap((res, i) => (res.status === 'fulfilled' ? [contenders[i]] : []));
      const lost = results.flatMap((res) => (res.status === 'rejected' ? [res.reason] : []));
      expect(won).toHaveLength(1);
      expect(lost.map((e) => (e as ParleyError).code)).toEqual(Array(7).fill('username_taken'));
      expect((await store().byUsername(username))?.id).toBe(won[0]?.id);
      const losers = contenders.filter((r) => r !== won[0]).map((r) => r.id);
      expect(await store().byIds(losers)).toEqual([]);
    });

    it('byIds keeps the order asked for, drops duplicates and unknown ids', async () => {
      const ns = namespace();
      const [a, b, c] = [record(`${ns}.a`), record(`${ns}.b`), record(`${ns}.c`)];
      for (const r of [a, b, c]) await store().create(r);
      const found = await store().byIds([c.id, newId('u'), a.id, c.id, b.id]);
      expect(found.map((u) => u.username)).toEqual([c.username, a.username, b.username]);
    });

    it('byUsernames finds users by exact username, in the order asked, across shards', async () => {
      const ns = namespace();
      const rs = Array.from({ length: 12 }, (_, i) => record(`${ns}.n${i}`));
      for (const r of rs) await store().create(r);
      const [a, b, c] = rs as [UserRecord, UserRecord, UserRecord];
      const asked = [c.username, `${ns}.ghost`, a.username, c.username, b.username.toUpperCase()];
      const found = await store().byUsernames(asked);
      expect(found).toEqual(
        [c, a].map((r) => ({ id: r.id, username: r.username, displayName: r.displayName })),
      );
      const all = await store().byUsernames(rs.map((r) => r.username).reverse());
      expect(all.map((u) => u.id)).toEqual(rs.map((r) => r.id).reverse());
      expect(await store().byUsernames([])).toEqual([]);
    });

    it('prefix search returns matching users sorted by username, at most limit', async () => {
      const ns = namespace();
      const names = ['carol', 'carl', 'cara', 'dave', 'carmen'].map((n) => `${ns}.${n}`);
      for (const n of names) await store().create(record(n));
      const all = await store().searchByPrefix(`${ns}.car`, 10);
      expect(all.map((u) => u.username)).toEqual(
        ['cara', 'carl', 'carmen', 'carol'].map((n) => `${ns}.${n}`),
      );
      expect(all.every((u) => !('passwordHash' in u))).toBe(true);
      const two = await store().searchByPrefix(`${ns}.car`, 2);
      expect(two.map((u) => u.username)).toEqual([`${ns}.cara`, `${ns}.carl`]);
      expect(await store().searchByPrefix(`${ns}.zz`, 10)).toEqual([]);
    });

    it('the global first page of a prefix search comes from every shard', async () => {
      const ns = namespace();
      const names = Array.from({ length: 24 }, (_, i) => `${ns}.u${String(i).padStart(2, '0')}`);
      await Promise.all(names.map((n) => store().create(record(n))));
      const page = await store().searchByPrefix(`${ns}.u`, 7);
      expect(page.map((u) => u.username)).toEqual(names.slice(0, 7));
    });

    it('LIKE metacharacters in a prefix match literally', async () => {
      const ns = namespace();
      for (const n of ['a_b', 'axb', 'a%c', 'azc', 'a!d'])
        await store().create(record(`${ns}.${n}`));
      const under = await store().searchByPrefix(`${ns}.a_`, 10);
      expect(under.map((u) => u.username)).toEqual([`${ns}.a_b`]);
      const percent = await store().searchByPrefix(`${ns}.a%`, 10);
      expect(percent.map((u) => u.username)).toEqual([`${ns}.a%c`]);
      const bang = await store().searchByPrefix(`${ns}.a!`, 10);
      expect(bang.map((u) => u.username)).toEqual([`${ns}.a!d`]);
    });

    it('usernames match exactly: another case is another username', async () => {
      const r = record(`${namespace()}.erin`);
      await store().create(r);
      expect(await store().byUsername(r.username.toUpperCase())).toBeNull();
    });

    it('display names keep any Unicode, emoji and Korean included', async () => {
      const r = record(`${namespace()}.intl`, { displayName: '김민준 🦊 Zoë' });
      await store().create(r);
      expect((await store().byId(r.id))?.displayName).toBe('김민준 🦊 Zoë');
    });
  });
}
