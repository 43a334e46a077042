/**
 * The folder is deployable alone: its bundle (`dist/index.mjs`, what the image runs) starts with
 * plain node under the real Functions Framework, on its own config, and serves sign-up, login and
 * lookup over HTTP; without a valid config it refuses to start and says which variable is wrong.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { build } from '@parley/launcher/build';
import { bundleNode } from '@parley/launcher/infra';
import { freePort, REPO_ROOT } from '@parley/tests/support/infra';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FreshUsersDb, freshUsersDb } from './testing';

/** The start command of README.md, run from the repository root. */
const startArgs = () => ['functions/users/dist/index.mjs'];

function start(port: number, env: Record<string, string>) {
  const child = spawn(bundleNode(), startArgs(), {
    cwd: REPO_ROOT,
    // Only its own environment, as in its container.
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, exited, output: () => output };
}

async function stop(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}

describe('users from its bundle', () => {
  let users: FreshUsersDb;
  let fn: ReturnType<typeof start>;
  let base: string;

  beforeAll(async () => {
    await build({ only: ['users'] });
    users = await freshUsersDb();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    fn = start(port, {
      USERS_DB_SHARDS: users.spec,
      JWT_SECRET: 'a-test-only-secret-of-more-than-32-chars',
      LOG_LEVEL: 'warn',
    });
    await vi.waitFor(
      async () => {
        if (fn.child.exitCode !== null) throw new Error(`function exited:\n${fn.output()}`);
        const res = await fetch(`${base}/healthz`);
        if (!res.ok) throw new Error(`healthz ${res.status}`);
      },
      { timeout: 60_000, interval: 100 },
    );
  });

  afterAll(async () => {
    if (fn) await stop(fn.child, fn.exited);
    await users?.drop();
  });

  it('is ready once its databases answer', async () => {
    const res = await fetch(`${base}/readyz`);
    expect(await res.json()).toEqual({ ready: true });
  });

  it('signs a user up, logs them in and serves their profile over HTTP', async () => {
    const json = { 'content-type': 'application/json' };
    const credentials = JSON.stringify({ username: 'deployable', password: 'password-123' });
    const signup = await fetch(`${base}/api/v1/auth/signup`, {
      method: 'POST',
      headers: json,
      body: credentials,
    });
    expect(signup.status).toBe(201);
    const { user } = (await signup.json()) as { user: { id: string; username: string } };
    expect(user.username).toBe('deployable');

    const again = await fetch(`${base}/api/v1/auth/signup`, {
      method: 'POST',
      headers: json,
      body: credentials,
    });
    expect(again.status).toBe(409);

    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: json,
      body: credentials,
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toEqual({ user: { ...user, displayName: 'deployable' } });

    const lookup = await fetch(`${base}/internal/users?ids=${user.id}`);
    expect(((await lookup.json()) as { users: unknown[] }).users).toHaveLength(1);
  });

  it('refuses to start without JWT_SECRET, naming it', async () => {
    const env = { USERS_DB_SHARDS: users.spec, JWT_SECRET: '' };
    const bad = start(await freePort(), env);
    try {
      expect(await bad.exited).not.toBe(0);
      expect(bad.output()).toContain('JWT_SECRET');
    } finally {
      await stop(bad.child, bad.exited);
    }
  });
});
