/**
 * The browser harness: Debian's Chromium driven by playwright-core, the real stack (MariaDB ×2,
 * Redis, Kafka, every function in its own process, the gateway serving webapp/dist at `/`) on
 * ports of its own, people as isolated browser contexts, and screenshots.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Stack, startStack } from '@parley/launcher/stack';
import { type Account, Api, WsClient } from '@parley/perf/client';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { REPO_ROOT } from '../support/infra';
import { SocketControl } from './socket-control';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'tests', 'artifacts', 'screenshots');
export const PASSWORD = 'correct horse battery';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };

/**
 * Launches headless Chromium. `chromium.launch` gives every browser a fresh temporary
 * user-data-dir (and deletes it on close), so no state leaks between runs.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** The real stack on the browser tests' own ports and databases, apart from dev and integration runs. */
export function startBrowserStack(): Promise<Stack> {
  return startStack({
    gatewayPort: 28080,
    portBase: 28100,
    dbPrefix: 'parley_browser',
    verbose: true,
  });
}

export interface Person {
  username: string;
  displayName: string;
  password: string;
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page: each one is a bug. */
  pageErrors: string[];
  /** Present when the person was opened with `controlSockets: true`. */
  sockets?: SocketControl;
}

export interface PersonOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Route the person's WebSockets through a SocketControl (see socket-control.ts). */
  controlSockets?: boolean;
}

/** A fresh, valid username: 3–32 of a-z 0-9 _ . - */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Opens a person's own browser context (their own localStorage) on the app, not yet signed in. */
export async function openPerson(
  browser: Browser,
  baseUrl: string,
  who: { username?: string; displayName?: string; prefix?: string } = {},
  opts: PersonOptions = {},
): Promise<Person> {
  const username = who.username ?? uniqueName(who.prefix ?? 'p');
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: opts.viewport ?? DESKTOP,
    colorScheme: opts.colorScheme ?? 'light',
  });
  const sockets = opts.controlSockets ? await SocketControl.install(context) : undefined;
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(String(err.stack ?? err)));
  await page.goto('/');
  return {
    username,
    displayName: who.displayName ?? `${username.split('_')[0]} ${username.slice(-4)}`,
    password: PASSWORD,
    context,
    page,
    pageErrors,
    ...(sockets ? { sockets } : {}),
  };
}

/** Signs a person up through the public HTTP API (faster than the UI, for people a test only needs to exist). */
export async function signUpByApi(api: Api, person: Person): Promise<Account> {
  return api.call<Account>('POST', '/api/v1/auth/signup', {
    body: { username: person.username, password: person.password, displayName: person.displayName },
  });
}

export async function logInByApi(api: Api, person: Person): Promise<Account> {
  return api.call<Account>('POST', '/api/v1/auth/login', {
    body: { username: person.username, password: person.password },
  });
}

/** Creates a group room through the API; resolves once room-ops has created it. */
export async function createRoomByApi(
  api: Api,
  token: string,
  name: string,
  memberIds: string[],
): Promise<{ id: string; name: string }> {
  const { room } = await api.call<{ room: { id: string; name: string } }>('POST', '/api/v1/rooms', {
    token,
    body: { name, memberIds },
  });
  return room;
}

/** Sends messages as `account` over the public WebSocket protocol and waits until each is acked. */
export async function sendByProtocol(
  api: Api,
  account: Account,
  roomId: string,
  bodies: string[],
): Promise<void> {
  const ws = await WsClient.connect(api, account.token);
  try {
    const tag = randomBytes(3).toString('hex');
    bodies.forEach((body, i) => {
      ws.send({ type: 'send', roomId, clientMsgId: `seed-${tag}-${i}`, body });
    });
    await ws.waitForCount((f) => f.type === 'ack', bodies.length, 60_000);
    const refused = ws.frames.filter((f) => f.type === 'error');
    if (refused.length > 0) throw new Error(`refused sends: ${JSON.stringify(refused)}`);
  } finally {
    ws.close();
  }
}

/**
 * Saves a screenshot as tests/artifacts/screenshots/<name>.png (animations finished, no caret).
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  return path;
}

export async function closePeople(...people: (Person | undefined)[]): Promise<void> {
  await Promise.all(people.map((p) => p?.context.close().catch(() => undefined)));
}

export { Api };

/** A short random tag that keeps one test's names and texts apart from another's. */
export const tag = (): string => randomBytes(3).toString('hex');

export interface BrowserHarness {
  readonly stack: Stack;
  readonly browser: Browser;
  readonly api: Api;
  /** Opens a fresh person (`prefix`), or another browser of an existing one; closed after the test. */
  person(who: string | Person, opts?: PersonOptions): Promise<Person>;
}

/**
 * One test file's harness: the real stack on the browser ports and Chromium, started before the
 * file and stopped after it; the people a test opened are closed after it, and any uncaught
 * exception in their pages fails that test.
 */
export function useBrowserHarness(): BrowserHarness {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let api: Api | undefined;
  let opened: Person[] = [];
  beforeAll(async () => {
    [stack, browser] = await Promise.all([startBrowserStack(), launchChromium()]);
    api = new Api(stack.gatewayUrl);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 60_000);
  afterEach(async () => {
    const people = opened;
    opened = [];
    await closePeople(...people);
    const errors = people.flatMap((p) => p.pageErrors.map((e) => `${p.username}: ${e}`));
    expect(errors, 'uncaught exceptions in the page').toEqual([]);
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the browser harness did not start');
    return v;
  };
  return {
    get stack() {
      return started(stack);
    },
    get browser() {
      return started(browser);
    },
    get api() {
      return started(api);
    },
    async person(who, opts = {}) {
      const identity = typeof who === 'string' ? { prefix: who } : who;
      const p = await openPerson(started(browser), started(stack).gatewayUrl, identity, opts);
      opened.push(p);
      return p;
    },
  };
}
