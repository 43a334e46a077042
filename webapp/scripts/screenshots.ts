/**
 * Clicks through the web client in headless Chromium and saves screenshots of
 * its main screens (light and dark, desktop and 375 px) for a person to look
 * at. A development aid, not a test: it asserts only what it needs to go on.
 *
 *   PARLEY_URL=http://127.0.0.1:8090 npx tsx webapp/scripts/screenshots.ts
 *
 * Needs a running Parley serving the built client (npm run build -w @parley/webapp), and
 * Chromium (CHROMIUM, default /usr/bin/chromium). Screenshots go to SHOTS_DIR (/tmp/webapp-shots).
 * ONLY=history or ONLY=details runs one part.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

const base = process.env.PARLEY_URL ?? 'http://127.0.0.1:8090';
const out = process.env.SHOTS_DIR ?? '/tmp/webapp-shots';
const run = Date.now().toString(36).slice(-5);
mkdirSync(out, { recursive: true });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 740 };
type Scheme = 'light' | 'dark';

async function open(browser: Browser, viewport: typeof DESKTOP, colorScheme: Scheme) {
  const ctx = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('crash', () => console.error('page crashed'));
  page.on('close', () => console.error('page closed'));
  page.on('console', (m) => m.type() === 'error' && console.error('console:', m.text()));
  await page.goto(base);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(out, `${name}.png`) });

async function signUp(page: Page, username: string, displayName: string) {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('status', { name: 'Connection' }).getByText('Connected').waitFor();
}

async function send(page: Page, text: string) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.keyboard.press('Enter');
  await page
    .locator(`[data-testid=message][data-status=sent]`, { hasText: text.slice(0, 30) })
    .last()
    .waitFor();
}

async function scenario(browser: Browser, scheme: Scheme) {
  const s = `${run}${scheme[0]}`;
  const ann = `ann_${s}`;
  const bob = `bob_${s}`;
  const a = await open(browser, DESKTOP, scheme);
  await shot(a, `${scheme}-desktop-1-login`);
  await a.getByRole('button', { name: 'Create an account' }).click();
  await shot(a, `${scheme}-desktop-2-signup`);
  await a.getByRole('button', { name: 'I already have an account' }).click();
  await signUp(a, ann, 'Ann Lovelace');
  await shot(a, `${scheme}-desktop-3-no-rooms`);

  const b = await open(browser, PHONE, scheme);
  await signUp(b, bob, 'Bob Marley');
  await shot(b, `${scheme}-phone-1-no-rooms`);

  // Ann creates a room with Bob.
  await a.getByRole('button', { name: 'New room' }).click();
  await a.getByLabel('Room name').fill('Weekend plans');
  await a.getByLabel('Find people').fill(bob.slice(0, 5));
  await a.getByRole('button', { name: `Add ${bob}` }).waitFor();
  await shot(a, `${scheme}-desktop-4-new-room-dialog`);
  await a.getByRole('button', { name: `Add ${bob}` }).click();
  await a.getByRole('button', { name: 'Create', exact: true }).click();
  await a.getByRole('heading', { level: 2, name: 'Weekend plans' }).waitFor();
  await shot(a, `${scheme}-desktop-5-no-messages`);

  await send(a, 'Hi Bob! Are we still on for Saturday?');
  await send(a, 'I found a place: https://example.com/cabins?id=42 (looks lovely)');

  // Bob sees the room appear and opens it.
  await b.getByRole('button', { name: /^Weekend plans/ }).click();
  await b.locator('[data-testid=message]').nth(1).waitFor();
  await send(b, 'Yes! Saturday works. I will bring the snacks 🍿');
  await send(
    b,
    'Longer thought: we could leave early in the morning to beat the traffic, stop for breakfast on the way, and still be there before noon.\nWhat do you think?',
  );
  await a.locator('[data-testid=message]:not([data-own])').nth(1).waitFor();
  await send(a, 'Perfect 👍');
  await b.locator('[data-testid=message]').nth(4).waitFor();
  await shot(a, `${scheme}-desktop-6-conversation`);
  await shot(b, `${scheme}-phone-2-conversation`);

  // A pending and a failed send: take the socket away from Ann.
  await a.context().setOffline(true);
  await a.getByRole('status', { name: 'Connection' }).getByText('Offline').waitFor();
  await a.getByLabel('Message', { exact: true }).fill('This one waits for the network…');
  await a.keyboard.press('Enter');
  await a.locator('[data-testid=message][data-status=pending]').waitFor();
  await shot(a, `${scheme}-desktop-7-pending`);
  await a.locator('[data-testid=message][data-status=failed]').waitFor({ timeout: 15_000 });
  await shot(a, `${scheme}-desktop-8-failed`);
  await a.context().setOffline(false);
  await a.getByRole('status', { name: 'Connection' }).getByText('Connected').waitFor({
    timeout: 40_000,
  });
  await a.getByRole('button', { name: 'Retry' }).click();
  await a.locator('[data-testid=message][data-status=sent]', { hasText: 'waits for' }).waitFor();

  // Bob messages Ann directly, then goes back to the list.
  await b.getByRole('button', { name: 'Back to rooms' }).click();
  await b.getByRole('button', { name: 'New message' }).click();
  await b.getByLabel('Find people').fill(ann);
  await b.getByRole('button', { name: `Message ${ann}` }).click();
  await b.getByRole('heading', { level: 2, name: 'Ann Lovelace' }).waitFor();
  await send(b, 'Psst, a surprise for the others?');
  await b.getByRole('button', { name: 'Back to rooms' }).click();
  await shot(b, `${scheme}-phone-3-room-list`);
  await a.getByRole('button', { name: /^Bob Marley/ }).click();
  await a.locator('[data-testid=message]').first().waitFor();
  await shot(a, `${scheme}-desktop-9-dm`);

  // Invite dialog at phone width.
  await b.getByRole('button', { name: /^Weekend plans/ }).click();
  await b.getByRole('button', { name: 'Invite' }).click();
  await b.getByLabel('Find people').fill(ann.slice(0, 5));
  await b.getByRole('button', { name: `Invite ${ann}` }).waitFor();
  await shot(b, `${scheme}-phone-4-invite-dialog`);
  await b.keyboard.press('Escape');
  await a.context().close();
  await b.context().close();
}

/** Sends `n` messages from the page's signed-in user over a socket of its own. */
async function seed(page: Page, roomId: string, n: number, prefix: string) {
  await page.evaluate(
    async ({ roomId, n, prefix }) => {
      const s = JSON.parse(localStorage.getItem('parley.session') ?? '{}') as { token: string };
      const ws = new WebSocket(`ws://${location.host}/ws`, ['parley.v1', `bearer.${s.token}`]);
      let acks = 0;
      await new Promise<void>((resolve, reject) => {
        ws.onclose = (e) => reject(new Error(`seed socket closed: ${e.code}`));
        ws.onmessage = (e) => {
          const f = JSON.parse(String(e.data)) as { type: string; message?: string };
          if (f.type === 'error') reject(new Error(`seed refused: ${f.message}`));
          if (f.type === 'ready') {
            for (let i = 1; i <= n; i++) {
              const body = `${prefix} ${i}`;
              const clientMsgId = `seed-${Date.now()}-${i}`;
              ws.send(JSON.stringify({ type: 'send', roomId, clientMsgId, body }));
            }
          }
          if (f.type === 'ack' && ++acks === n) resolve();
        };
      });
      ws.onclose = null;
      ws.close();
    },
    { roomId, n, prefix },
  );
}

function check(ok: boolean, what: string) {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

/** Long history: the latest page, older pages on scrolling up without a jump, "New messages". */
async function historyScenario(browser: Browser) {
  const ann = `ann_${run}h`;
  const bob = `bob_${run}h`;
  const a = await open(browser, DESKTOP, 'light');
  await signUp(a, ann, 'Ann Archive');
  const b = await open(browser, DESKTOP, 'light');
  await signUp(b, bob, 'Bob Backlog');
  await a.getByRole('button', { name: 'New room' }).click();
  await a.getByLabel('Room name').fill('Long history');
  await a.getByLabel('Find people').fill(bob);
  await a.getByRole('button', { name: `Add ${bob}` }).click();
  await a.getByRole('button', { name: 'Create', exact: true }).click();
  await a.getByRole('heading', { level: 2, name: 'Long history' }).waitFor();
  const roomId = decodeURIComponent(new URL(a.url()).hash.replace('#/r/', ''));
  await b.getByRole('button', { name: /^Long history/ }).waitFor();
  await seed(b, roomId, 130, 'Backlog message');

  // A fresh page load shows the latest page, pinned to the bottom.
  await a.reload();
  const log = a.getByRole('log', { name: 'Messages' });
  await a.locator('[data-testid=message][data-seq="130"]').waitFor();
  const atBottom = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 2);
  check(await atBottom(), 'the latest page opens scrolled to the bottom');
  const count = () => a.locator('[data-testid=message]').count();
  const firstCount = await count();
  check(firstCount === 50, `the latest page holds 50 messages (has ${firstCount})`);

  // Scrolling to the top loads the previous page; what was on screen stays where it was.
  const anchor = a.locator('[data-testid=message][data-seq="81"]');
  // Hold the older page back a moment, so "before" is measured before it arrives.
  await a.route('**/messages?before=*', async (route) => {
    await new Promise((r) => setTimeout(r, 500));
    await route.continue();
  });
  await log.evaluate((el) => {
    el.scrollTop = 0;
  });
  // Its bottom edge: the message itself may lose its sender header once its predecessor arrives.
  const bottomOf = async () => {
    const b = await anchor.boundingBox();
    return b ? b.y + b.height : Number.NaN;
  };
  const before = await bottomOf();
  check((await count()) === 50, 'the older page has not arrived yet when measuring');
  await a.waitForFunction(() => document.querySelectorAll('[data-testid=message]').length > 50);
  await a.waitForTimeout(100);
  const after = await bottomOf();
  check(Math.abs(after - before) < 4, `older page kept the view in place (${before} → ${after})`);
  await shot(a, 'history-1-older-loaded');

  // Scrolled up, a new message raises "New messages" instead of moving the view.
  await log.evaluate((el) => {
    el.scrollTop = el.scrollHeight / 2;
  });
  await seed(b, roomId, 1, 'A new one while Ann reads');
  const jump = a.getByRole('button', { name: 'New messages' });
  await jump.waitFor();
  check(!(await atBottom()), 'the view stayed where Ann was reading');
  await shot(a, 'history-2-new-messages-button');
  await jump.click();
  await a.waitForFunction(() => !document.querySelector('.jump'));
  check(await atBottom(), '"New messages" scrolls to the bottom');

  // At the bottom, a new message keeps the view pinned.
  await seed(b, roomId, 1, 'Pinned arrival');
  await a.locator('[data-testid=message]', { hasText: 'Pinned arrival 1' }).waitFor();
  await a.waitForTimeout(100);
  check(await atBottom(), 'at the bottom, a new message keeps the view pinned');
  await a.context().close();
  await b.context().close();
}

/** Keyboard, dialogs, the composer's limits, text-not-HTML, and an expired session. */
async function detailsScenario(browser: Browser) {
  const cat = `cat_${run}d`;
  const a = await open(browser, PHONE, 'dark');
  await signUp(a, cat, 'Cat Details');

  // A dialog takes focus, Escape closes it, focus goes back to its button.
  const newRoom = a.getByRole('button', { name: 'New room' });
  await newRoom.click();
  const focused = () =>
    a.evaluate(
      () =>
        document.activeElement?.getAttribute('aria-label') ??
        document.activeElement?.closest('label')?.textContent ??
        document.activeElement?.textContent,
    );
  check((await focused())?.includes('Room name') === true, 'the dialog focuses "Room name"');
  await a.keyboard.press('Escape');
  await a.getByRole('dialog').waitFor({ state: 'detached' });
  check((await focused())?.includes('New room') === true, 'Escape closes it and focus returns');

  await newRoom.click();
  await a.getByLabel('Room name').fill('Just me');
  await a.getByRole('button', { name: 'Create', exact: true }).click();
  await a.getByRole('heading', { level: 2, name: 'Just me' }).waitFor();

  // Text, never HTML.
  const box = a.getByLabel('Message', { exact: true });
  await box.fill('<img src=x onerror="window.pwned=1"> <b>bold?</b> javascript:alert(1)');
  await a.keyboard.press('Enter');
  const msg = a.locator('[data-testid=message][data-status=sent]').last();
  await msg.waitFor();
  check((await msg.locator('img, b').count()) === 0, 'markup in a message stays text');
  check((await msg.locator('a').count()) === 0, 'only http(s) URLs become links');

  // Shift+Enter is a newline; Enter during an IME composition does not send.
  await box.fill('line one');
  await a.keyboard.press('Shift+Enter');
  await a.keyboard.type('line two');
  check((await box.inputValue()) === 'line one\nline two', 'Shift+Enter adds a new line');
  await box.evaluate((el) => {
    el.dispatchEvent(new CompositionEvent('compositionstart'));
    el.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, isComposing: true }),
    );
    el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, keyCode: 229 }));
    el.dispatchEvent(new CompositionEvent('compositionend'));
  });
  check((await box.inputValue()) === 'line one\nline two', 'Enter while composing does not send');
  // The same synthetic Enter without a composition does send (so the check above can fail).
  await box.evaluate((el) => {
    el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  });
  check((await box.inputValue()) === '', 'a plain Enter sends');

  // Near the limit the count shows; past it Send is disabled.
  await box.fill('é'.repeat(3_990));
  await a.getByText('10 characters left').waitFor();
  await box.fill('😀'.repeat(4_010));
  await a.getByText('10 characters over the limit').waitFor();
  check(
    await a.getByRole('button', { name: 'Send' }).isDisabled(),
    'Send is disabled past the limit',
  );
  await shot(a, 'details-1-over-limit-phone-dark');
  await box.fill('');

  // An expired session: back to the sign-in screen, told why.
  await a.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('parley.session') ?? '{}');
    const [h, , sig] = String(s.token).split('.');
    const payload = btoa(JSON.stringify({ sub: s.user.id, exp: 1 })).replace(/=+$/, '');
    localStorage.setItem(
      'parley.session',
      JSON.stringify({ ...s, token: `${h}.${payload}.${sig}` }),
    );
  });
  await a.reload();
  await a.getByRole('alert').getByText('Your session has expired. Please log in again.').waitFor();
  check(true, 'an expired session says so on the sign-in screen');
  await shot(a, 'details-2-session-expired-phone-dark');
  await a.context().close();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-sync',
  ],
});
try {
  if (!process.env.ONLY) {
    for (const scheme of ['light', 'dark'] as const) await scenario(browser, scheme);
  }
  if (!process.env.ONLY || process.env.ONLY === 'history') await historyScenario(browser);
  if (!process.env.ONLY || process.env.ONLY === 'details') await detailsScenario(browser);
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
}
