/**
 * The `users` HTTP function: sign-up, login, the caller's profile, username
 * search, and the internal batch lookup other services use to turn ids into
 * users. Pure wiring: storage and tokens come in as ports.
 *
 * Usernames are case-insensitive: they are stored lower-case, and sign-up
 * and login lower-case what they are given ("Alice" signs up as "alice" and
 * can log in as "ALICE").
 *
 * Sign-up refuses weak passwords (password-policy.ts) with `400 weak_password`.
 * Every password hash goes through one KdfLimiter: past its queue, `503
 * unavailable` with `Retry-After` at once, instead of a login that waits
 * behind a flood for seconds.
 */
import {
  IdSchema,
  LoginBodySchema,
  SignupBodySchema,
  type User,
  UsernameSchema,
  UserQuerySchema,
} from '@parley/protocol';
import {
  functionApp,
  jsonBody,
  KNOWN_ADDRESS_HEADER,
  newId,
  ParleyError,
  parseWith,
  requireAuth,
  type TokenService,
} from '@parley/runtime';
import type { HostDeps } from '@parley/runtime/function-host';
import type { Context, Hono } from 'hono';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { KdfBusyError, KdfLimiter, type KdfLimits } from './kdf-limiter';
import { decoyHash, hashPassword, verifyPassword } from './password';
import { passwordProblem } from './password-policy';
import { publicUser, type UserStore } from './user-store';

export interface UsersDeps extends HostDeps {
  store: UserStore;
  tokens: TokenService;
  /** Bound on concurrent password hashes (default DEFAULT_KDF_LIMITS). */
  kdf?: KdfLimits;
}

/** Two hashes at once (a function pod has one or two cores), sixteen waiting (~1 s of work). */
export const DEFAULT_KDF_LIMITS: KdfLimits = { concurrency: 2, queue: 16 };

/** Most ids one `/internal/users` call may ask for. */
export const INTERNAL_LOOKUP_MAX_IDS = 200;

const lowerUsername = (v: unknown): unknown =>
  v !== null && typeof v === 'object' && typeof (v as { username?: unknown }).username === 'string'
    ? { ...v, username: (v as { username: string }).username.toLowerCase() }
    : v;

const SignupBody = z.preprocess(lowerUsername, SignupBodySchema);
const LoginBody = z.preprocess(lowerUsername, LoginBodySchema);
const IdsQuery = z.object({
  ids: z
    .string({ error: 'required: comma-separated user ids' })
    .transform((s) => [...new Set(s.split(',').filter(Boolean))])
    .pipe(
      z
        .array(IdSchema)
        .max(INTERNAL_LOOKUP_MAX_IDS, `at most ${INTERNAL_LOOKUP_MAX_IDS} ids per request`),
    ),
});

const UsernamesQuery = z.object({
  usernames: z
    .string()
    .transform((s) => [...new Set(s.split(',').filter(Boolean))])
    .pipe(
      z
        .array(UsernameSchema)
        .max(INTERNAL_LOOKUP_MAX_IDS, `at most ${INTERNAL_LOOKUP_MAX_IDS} usernames per request`),
    ),
});

const INVALID_LOGIN = 'invalid username or password';

/**
 * @example registerFunction('users', createUsersApp(realUsersDeps()));
 * @example const res = await createUsersApp(deps).request('/api/v1/me', { headers: { authorization: `Bearer ${t}` } });
 */
export function createUsersApp(deps: UsersDeps): Hono {
  const { store, tokens, log } = deps;
  const app = functionApp(deps);
  const auth = requireAuth(tokens);
  const kdf = new KdfLimiter(deps.kdf ?? DEFAULT_KDF_LIMITS);
  const kdfRefused = new Counter({
    name: 'parley_users_kdf_refused_total',
    help: 'Sign-ups and logins refused with 503 because too many password hashes were running',
    registers: [deps.registry],
  });

  /** The answer to a request the KdfLimiter refused: 503 with Retry-After (the error handler sets no headers). */
  const busy = (c: Context, err: KdfBusyError) => {
    kdfRefused.inc();
    return c.json(err.toBody(), 503, { 'retry-after': String(err.retryAfterSeconds) });
  };

  // Verifying against a decoy when the user does not exist costs what a real check costs,
  // so response times do not tell which usernames exist.
  const decoy = decoyHash();

  const session = async (user: User) => ({ user, token: await tokens.sign(user) });

  app.post('/api/v1/auth/signup', async (c) => {
    const body = await jsonBody(c, SignupBody);
    const weak = passwordProblem(body.password, body.username);
    if (weak) throw new ParleyError('weak_password', weak);
    // A taken username costs no hash (create() still decides a race).
    if (await store.byUsername(body.username)) {
      throw new ParleyError('username_taken', `username ${body.username} is taken`);
    }
    let passwordHash: string;
    try {
      passwordHash = await kdf.run(() => hashPassword(body.password));
    } catch (err) {
      if (err instanceof KdfBusyError) return busy(c, err);
      throw err;
    }
    const user = await store.create({
      id: newId('u'),
      username: body.username,
      displayName: body.displayName ?? body.username,
      passwordHash,
    });
    log.info({ userId: user.id }, 'user signed up');
    return c.json(await session(user), 201);
  });

  app.post('/api/v1/auth/login', async (c) => {
    const body = await jsonBody(c, LoginBody);
    const record = await store.byUsername(body.username);
    // The gateway says the client's address has logged in to this account before: hash it first.
    const known = c.req.header(KNOWN_ADDRESS_HEADER) === '1';
    let ok: boolean;
    try {
      ok = await kdf.run(() => verifyPassword(body.password, record?.passwordHash ?? decoy), known);
    } catch (err) {
      if (err instanceof KdfBusyError) return busy(c, err);
      throw err;
    }
    if (!record || !ok) {
      log.info({ userExists: Boolean(record) }, 'login refused');
      throw new ParleyError('unauthorized', INVALID_LOGIN);
    }
    return c.json(await session(publicUser(record)));
  });

  app.get('/api/v1/me', auth, async (c) => {
    const { userId } = c.var.user;
    const user = await store.byId(userId);
    // A valid token for a user this store does not know (e.g. an embedded-mode restart): log in again.
    if (!user) throw new ParleyError('unauthorized', 'unknown user');
    return c.json({ user });
  });

  app.get('/api/v1/users', auth, async (c) => {
    const q = parseWith(UserQuerySchema, c.req.query());
    return c.json({ users: await store.searchByPrefix(q.q.toLowerCase(), q.limit) });
  });

  // Inside the cluster only (the gateway never routes /internal): no token.
  // `?ids=` or `?usernames=` (notify resolving `@mentions`); the known users, in the order asked.
  app.get('/internal/users', async (c) => {
    const query = c.req.query();
    if (query.usernames !== undefined) {
      if (query.ids !== undefined)
        throw new ParleyError('bad_request', 'use either ids or usernames');
      const { usernames } = parseWith(UsernamesQuery, query);
      return c.json({ users: usernames.length ? await store.byUsernames(usernames) : [] });
    }
    const { ids } = parseWith(IdsQuery, query);
    return c.json({ users: ids.length ? await store.byIds(ids) : [] });
  });

  return app;
}
