/**
 * The web client in Chromium against the real stack: two people chatting, reloads, a gateway
 * restart, hostile message bodies, history paging, the composer's keyboard rules and screenshots
 * of every screen (tests/artifacts/screenshots/). Locators are the spec's accessible names.
 */

import type { Account } from '@parley/perf/client';
import { describe, expect, it } from 'vitest';
import {
  createRoomThroughUi,
  expectConnection,
  expectMessageCount,
  expectStatus,
  logInThroughUi,
  messageWith,
  openRoom,
  scrollContainer,
  sendMessage,
  signUpThroughUi,
  ui,
} from './chat-ui';
import {
  createRoomByApi,
  logInByApi,
  type Person,
  type PersonOptions,
  PHONE,
  screenshot,
  sendByProtocol as send,
  signUpByApi,
  tag,
  useBrowserHarness,
} from './support';

const h = useBrowserHarness();

/** Ann and Bob, signed up by API, in a group room made by API, logged in through the UI with the room open. */
async function pairInRoom(opts: { ann?: PersonOptions; bob?: PersonOptions } = {}) {
  const a = await h.person('ann', opts.ann);
  const b = await h.person('bob', opts.bob);
  const [accA, accB] = await Promise.all([signUpByApi(h.api, a), signUpByApi(h.api, b)]);
  const roomName = `Room ${tag()}`;
  const room = await createRoomByApi(h.api, accA.token, roomName, [accB.user.id]);
  await Promise.all([logInThroughUi(a), logInThroughUi(b)]);
  await Promise.all([openRoom(a.page, roomName), openRoom(b.page, roomName)]);
  return { a, b, accA, accB, room, roomName };
}

/** Sends messages as `account` over the public WebSocket protocol and waits until each is acked. */
const sendByProtocol = (account: Account, roomId: string, bodies: string[]): Promise<void> =>
  send(h.api, account, roomId, bodies);

describe('Parley web client in Chromium', () => {
  it('the gateway serves the built client at / and it boots to the auth screen', async () => {
    const context = await h.browser.newContext({ baseURL: h.stack.gatewayUrl });
    try {
      const page = await context.newPage();
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const res = await page.goto('/');
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-type']).toContain('text/html');
      await ui.authHeading(page).waitFor();
      // A client route that is not a file falls back to index.html; an unknown API route does not.
      const deep = await page.goto('/rooms/r_nothing_here');
      expect(deep?.status()).toBe(200);
      await ui.authHeading(page).waitFor();
      const api404 = await fetch(`${h.stack.gatewayUrl}/api/v1/nothing-here`);
      expect(api404.status).toBe(404);
      expect(api404.headers.get('content-type')).toContain('application/json');
      expect(failed).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('two people chat both ways in real time', async () => {
    const a = await h.person('ann');
    const b = await h.person('bob');
    await Promise.all([signUpThroughUi(a), signUpThroughUi(b)]);
    expect(await ui.banner(a.page).getByText(a.displayName).first().isVisible()).toBe(true);

    const roomName = `Trip ${tag()}`;
    await createRoomThroughUi(a.page, roomName, [b.username]);
    await openRoom(a.page, roomName);
    // Bob learns about the room live (a `room` frame), without reloading.
    await openRoom(b.page, roomName);

    const fromAnn = `Hi Bob ${tag()}`;
    await sendMessage(a.page, fromAnn);
    await expectMessageCount(b.page, fromAnn, 1);
    await expectStatus(a.page, fromAnn, 'sent');
    expect(await messageWith(a.page, fromAnn).getAttribute('data-own')).toBe('true');
    expect(await messageWith(b.page, fromAnn).getAttribute('data-own')).not.toBe('true');
    expect(await messageWith(b.page, fromAnn).getAttribute('data-seq')).toMatch(/^\d+$/);

    const fromBob = `Hi Ann ${tag()}`;
    await ui.composer(b.page).fill(fromBob);
    await ui.sendButton(b.page).click();
    await expectMessageCount(a.page, fromBob, 1);
    await expectStatus(b.page, fromBob, 'sent');
    expect(await messageWith(b.page, fromBob).getAttribute('data-own')).toBe('true');
    expect(await messageWith(a.page, fromBob).getAttribute('data-own')).not.toBe('true');
    expect(await ui.composer(b.page).inputValue()).toBe('');

    // Both see both messages once, in the same order; the room list previews the latest one.
    for (const page of [a.page, b.page]) {
      await expectMessageCount(page, fromAnn, 1);
      const seqA = Number(await messageWith(page, fromAnn).getAttribute('data-seq'));
      const seqB = Number(await messageWith(page, fromBob).getAttribute('data-seq'));
      expect(seqB).toBe(seqA + 1);
      await ui.rooms(page).getByText(fromBob).first().waitFor();
    }
  });

  it('a reload keeps the session and the history', async () => {
    const { a, accB, room, roomName } = await pairInRoom();
    const fromBob = `Before the reload ${tag()}`;
    await sendByProtocol(accB, room.id, [fromBob]);
    const fromAnn = `Still here ${tag()}`;
    await sendMessage(a.page, fromAnn);
    await expectStatus(a.page, fromAnn, 'sent');
    await expectMessageCount(a.page, fromBob, 1);

    await a.page.reload();
    await ui.banner(a.page).getByText(a.displayName).first().waitFor();
    expect(await ui.authHeading(a.page).count(), 'the auth screen after a reload').toBe(0);
    await expectConnection(a.page, 'Connected');
    await openRoom(a.page, roomName);
    await expectMessageCount(a.page, fromBob, 1);
    await expectMessageCount(a.page, fromAnn, 1);
    expect(await messageWith(a.page, fromAnn).getAttribute('data-own')).toBe('true');
    expect(await messageWith(a.page, fromAnn).getAttribute('data-status')).toBe('sent');
    expect(await messageWith(a.page, fromBob).getAttribute('data-own')).not.toBe('true');
  });

  it('a dropped connection recovers and shows what was sent meanwhile, exactly once', async () => {
    const { a, b, room } = await pairInRoom({ bob: { controlSockets: true } });
    const gate = b.sockets;
    if (!gate) throw new Error("Bob's sockets are not under control");
    const before = `Before the drop ${tag()}`;
    await sendMessage(a.page, before);
    await expectMessageCount(b.page, before, 1);

    // The gateway drains (1001) and comes back; Bob's reconnect is held until Ann has posted.
    gate.hold();
    const restarted = h.stack.restart('connection-gateway');
    await expect
      .poll(async () => (await ui.connection(b.page).textContent())?.trim(), { timeout: 30_000 })
      .toMatch(/^(Reconnecting…|Connecting…)$/);
    await restarted;
    await expect.poll(() => gate.heldAttempts, { timeout: 60_000 }).toBeGreaterThan(0);

    const meanwhile = [`Meanwhile one ${tag()}`, `Meanwhile two ${tag()}`];
    await sendByProtocol(await logInByApi(h.api, a), room.id, meanwhile);
    await expectConnection(a.page, 'Connected', 60_000);
    const fromAnnsPage = `Meanwhile from the page ${tag()}`;
    await sendMessage(a.page, fromAnnsPage);
    await expectStatus(a.page, fromAnnsPage, 'sent');
    meanwhile.push(fromAnnsPage);
    expect(await ui.messagesWith(b.page, 'Meanwhile').count(), 'Bob is still away').toBe(0);

    gate.release();
    await expectConnection(b.page, 'Connected', 60_000);
    for (const text of meanwhile) await expectMessageCount(b.page, text, 1, 30_000);
    // A live message after the catch-up: anything duplicated by the sync would be in by now.
    const after = `After the catch-up ${tag()}`;
    await sendMessage(a.page, after);
    await expectMessageCount(b.page, after, 1);
    for (const text of [before, ...meanwhile]) {
      expect(await ui.messagesWith(b.page, text).count(), text).toBe(1);
      expect(await ui.messagesWith(a.page, text).count(), text).toBe(1);
    }
    const seqs = await ui
      .messages(b.page)
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))));
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('a lost ack: the message fails, Retry sends the same clientMsgId and it is stored once', async () => {
    const { a, b } = await pairInRoom({ ann: { controlSockets: true } });
    const sockets = a.sockets;
    if (!sockets) throw new Error("Ann's sockets are not under control");
    // The server stores the message and acks it; the ack never reaches Ann's page.
    sockets.swallowFromServer((frame) => (JSON.parse(frame) as { type: string }).type === 'ack');
    const text = `Lost ack ${tag()}`;
    await sendMessage(a.page, text);
    const mine = messageWith(a.page, text);
    await mine.getByText('Sending…').waitFor();
    await expectMessageCount(b.page, text, 1);
    await expectStatus(a.page, text, 'failed', 30_000);
    await mine.getByText('Not sent').waitFor();
    const clientMsgId = await mine.getAttribute('data-client-msg-id');
    expect(clientMsgId).toBeTruthy();
    expect(sockets.swallowed.length).toBeGreaterThan(0);

    sockets.swallowFromServer(null);
    await mine.getByRole('button', { name: 'Retry' }).click();
    await expectStatus(a.page, text, 'sent');
    expect(await mine.getAttribute('data-client-msg-id')).toBe(clientMsgId);
    expect(await mine.getAttribute('data-seq')).toBe(
      await messageWith(b.page, text).getAttribute('data-seq'),
    );
    // A message after the retry: a duplicate stored by the retry would have arrived before it.
    const after = `After the retry ${tag()}`;
    await sendMessage(a.page, after);
    await expectMessageCount(b.page, after, 1);
    expect(await ui.messagesWith(b.page, text).count()).toBe(1);
    expect(await ui.messagesWith(a.page, text).count()).toBe(1);
  });

  it('dialogs take the focus, close on Escape and give the focus back', async () => {
    const a = await h.person('ann');
    await signUpByApi(h.api, a);
    await logInThroughUi(a);
    const page = a.page;
    for (const [opener, field] of [
      ['New room', 'Room name'],
      ['New message', 'Find people'],
    ] as const) {
      const button = page.getByRole('button', { name: opener, exact: true });
      await button.click();
      const dialog = ui.dialog(page, opener);
      await dialog.waitFor();
      await expect
        .poll(() =>
          dialog.getByLabel(field, { exact: true }).evaluate((el) => el === document.activeElement),
        )
        .toBe(true);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await expect.poll(() => button.evaluate((el) => el === document.activeElement)).toBe(true);
    }
  });

  it('an HTML/script payload renders as text and runs nothing', async () => {
    const { a, b } = await pairInRoom();
    const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script> ${tag()}`;
    await sendMessage(a.page, payload);
    await expectStatus(a.page, payload, 'sent');
    await expectMessageCount(b.page, payload, 1);
    for (const page of [a.page, b.page]) {
      const message = messageWith(page, payload);
      expect(await message.textContent()).toContain(payload);
      expect(await message.locator('img, script').count()).toBe(0);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      const pwned = await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
      expect(pwned).toBeUndefined();
    }
  });

  it('a link in a message opens in a new tab without an opener; javascript: is no link', async () => {
    const { a, b } = await pairInRoom();
    const url = `https://example.com/docs?q=${tag()}&x=1`;
    const text = `Read ${url} and javascript:alert(1) please`;
    await sendMessage(a.page, text);
    await expectMessageCount(b.page, text, 1);
    for (const page of [a.page, b.page]) {
      const links = messageWith(page, text).getByRole('link');
      expect(await links.count()).toBe(1);
      const link = links.first();
      expect(await link.getAttribute('href')).toBe(url);
      expect(await link.textContent()).toBe(url);
      expect(await link.getAttribute('target')).toBe('_blank');
      const rel = (await link.getAttribute('rel'))?.split(/\s+/) ?? [];
      expect(rel).toEqual(expect.arrayContaining(['noopener', 'noreferrer']));
    }
  });

  it('scrolling to the top loads older history without the view jumping', async () => {
    // Bob opens the room after the messages exist, so only history can bring the old ones.
    const a = await h.person('ann');
    const b = await h.person('bob');
    const [accA, accB] = await Promise.all([signUpByApi(h.api, a), signUpByApi(h.api, b)]);
    const roomName = `Long story ${tag()}`;
    const room = await createRoomByApi(h.api, accA.token, roomName, [accB.user.id]);
    const total = 120;
    const body = (seq: number) => `history ${String(seq).padStart(3, '0')} ${room.id}`;
    await sendByProtocol(
      accA,
      room.id,
      Array.from({ length: total }, (_, i) => body(i + 1)),
    );
    await logInThroughUi(b);
    await openRoom(b.page, roomName);
    // The latest page, pinned to the bottom.
    await expectMessageCount(b.page, body(total), 1);
    await messageWith(b.page, body(total)).waitFor();
    const page = b.page;
    const scroller = await scrollContainer(page);
    const minSeq = () =>
      ui
        .messages(page)
        .evaluateAll((els) =>
          Math.min(...els.map((el) => Number(el.getAttribute('data-seq') || Infinity))),
        );

    for (let round = 0; round < 10 && (await minSeq()) > 1; round++) {
      const oldest = await minSeq();
      const anchor = page.locator(`[data-testid="message"][data-seq="${oldest}"]`);
      // Scroll to the top and note where the oldest loaded message sits in the viewport.
      const before = await scroller.evaluate((el, sel) => {
        el.scrollTop = 0;
        const m = el.querySelector(sel);
        if (!m) throw new Error(`no ${sel}`);
        return m.getBoundingClientRect().top - el.getBoundingClientRect().top;
      }, `[data-testid="message"][data-seq="${oldest}"]`);
      await expect.poll(minSeq, { timeout: 30_000 }).toBeLessThan(oldest);
      const after = await anchor.evaluate((m) => {
        const box = m.getBoundingClientRect();
        let el: HTMLElement | null = m.parentElement;
        while (el && !el.hasAttribute('data-pw-scroller')) el = el.parentElement;
        if (!el) throw new Error('the message left the scroller');
        const view = el.getBoundingClientRect();
        return { top: box.top - view.top, bottom: box.bottom - view.top, height: el.clientHeight };
      });
      expect(
        after.bottom > 0 && after.top < after.height,
        `message seq ${oldest} left the viewport (was at ${before}px, now ${after.top}px)`,
      ).toBe(true);
      expect(
        Math.abs(after.top - before),
        `how far seq ${oldest} moved (${before}px → ${after.top}px from the top)`,
      ).toBeLessThan(after.height / 2);
    }
    await messageWith(page, body(1)).waitFor({ timeout: 30_000 });
    const seqs = await ui
      .messages(page)
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))));
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('Enter sends, Shift+Enter adds a line, and nothing is sent mid-IME-composition', async () => {
    const { a, b } = await pairInRoom();
    const page = a.page;
    const box = ui.composer(page);

    const first = `line one ${tag()}`;
    await box.fill(first);
    await box.press('Shift+Enter');
    expect(await box.inputValue()).toBe(`${first}\n`);
    await page.keyboard.type('line two');
    await box.press('Enter');
    await expectMessageCount(b.page, first, 1);
    // innerText, not textContent: the line break must be rendered (pre-wrap or <br>), not only stored.
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked
    expect(await messageWith(b.page, first).innerText()).toContain(`${first}\nline two`);
    expect(await box.inputValue()).toBe('');

    // An IME commits a candidate with Enter: that Enter must not send.
    const composed = `日本語 ${tag()}`;
    await box.focus();
    const state = await box.evaluate((el, text) => {
      const ta = el as HTMLTextAreaElement;
      ta.dispatchEvent(new CompositionEvent('compositionstart', { bubbles: true, data: '' }));
      ta.value = text;
      ta.dispatchEvent(
        new InputEvent('input', { bubbles: true, data: text, inputType: 'insertCompositionText' }),
      );
      const enter = new KeyboardEvent('keydown', {
        key: 'Enter',
        code: 'Enter',
        keyCode: 229,
        which: 229,
        isComposing: true,
        bubbles: true,
        cancelable: true,
      });
      ta.dispatchEvent(enter);
      const valueMidComposition = ta.value;
      ta.dispatchEvent(new CompositionEvent('compositionend', { bubbles: true, data: text }));
      // Safari reports the committing Enter after compositionend, with keyCode 229.
      ta.dispatchEvent(
        new KeyboardEvent('keydown', {
          key: 'Enter',
          code: 'Enter',
          keyCode: 229,
          which: 229,
          bubbles: true,
          cancelable: true,
        }),
      );
      return { valueMidComposition, keyCode: enter.keyCode, isComposing: enter.isComposing };
    }, composed);
    expect(state.keyCode, 'the synthetic event carries keyCode 229').toBe(229);
    expect(state.isComposing).toBe(true);
    expect(state.valueMidComposition).toBe(composed);
    expect(await box.inputValue()).toBe(composed);

    // The next, real Enter sends — exactly one message with the composed text.
    await box.press('End');
    await page.keyboard.type(' done');
    await box.press('Enter');
    await expectStatus(page, `${composed} done`, 'sent');
    await expectMessageCount(b.page, `${composed} done`, 1);
    expect(await ui.messagesWith(page, composed).count()).toBe(1);
    expect(await ui.messagesWith(b.page, composed).count()).toBe(1);
  });

  it('screenshots: auth, room list and chat at 1280×800 and 375×812, light and dark', async () => {
    const a = await h.person('ann');
    const b = await h.person('bob');
    await ui.authHeading(a.page).waitFor();
    const shots = [await screenshot(a.page, 'auth-desktop-light')];
    await a.page.emulateMedia({ colorScheme: 'dark' });
    shots.push(await screenshot(a.page, 'auth-desktop-dark'));
    await a.page.emulateMedia({ colorScheme: 'light' });

    const [accA, accB] = await Promise.all([signUpByApi(h.api, a), signUpByApi(h.api, b)]);
    const roomName = `Weekend plans ${tag()}`;
    const other = await createRoomByApi(h.api, accA.token, `Design review ${tag()}`, [
      accB.user.id,
    ]);
    await sendByProtocol(accB, other.id, ['The mockups are in the shared folder.']);
    const room = await createRoomByApi(h.api, accA.token, roomName, [accB.user.id]);
    await sendByProtocol(accB, room.id, [
      'Are we still on for Saturday?',
      'I can bring the tent. Map: https://example.com/map',
    ]);
    await logInThroughUi(a);
    await openRoom(a.page, roomName);
    await sendMessage(a.page, 'Yes! Leaving at 9.');
    await expectStatus(a.page, 'Yes! Leaving at 9.', 'sent');
    shots.push(await screenshot(a.page, 'chat-desktop-light'));
    const layout = await fillsViewport(a);
    const lightBg = await effectiveBackground(a);
    await a.page.emulateMedia({ colorScheme: 'dark' });
    shots.push(await screenshot(a.page, 'chat-desktop-dark'));
    expect(await effectiveBackground(a), 'dark mode changes the background').not.toBe(lightBg);

    // The same person on a phone: the list or the chat, with a way back.
    const phone = await h.person(a, { viewport: PHONE });
    await ui.authHeading(phone.page).waitFor();
    shots.push(await screenshot(phone.page, 'auth-phone-light'));
    await logInThroughUi(phone);
    await ui.rooms(phone.page).waitFor();
    shots.push(await screenshot(phone.page, 'rooms-phone-light'));
    await openRoom(phone.page, roomName);
    await ui.rooms(phone.page).waitFor({ state: 'hidden' });
    await expectMessageCount(phone.page, 'Yes! Leaving at 9.', 1);
    shots.push(await screenshot(phone.page, 'chat-phone-light'));
    const phoneLayout = await fillsViewport(phone);
    await phone.page.emulateMedia({ colorScheme: 'dark' });
    shots.push(await screenshot(phone.page, 'chat-phone-dark'));
    const overflow = await phone.page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow, 'horizontal overflow at 375 px').toBeLessThanOrEqual(0);
    await phone.page.getByRole('button', { name: 'Back to rooms' }).click();
    await ui.rooms(phone.page).waitFor();
    shots.push(await screenshot(phone.page, 'rooms-phone-dark'));
    expect(shots).toHaveLength(9);
    expect(layout, 'at 1280×800 the room list and the chat reach the bottom of the window').toEqual(
      {
        rooms: true,
        chat: true,
      },
    );
    expect(phoneLayout.chat, 'at 375×812 the chat reaches the bottom').toBe(true);
    // Hidden visually is fine on a phone; hidden from screen readers (display: none) is not.
    expect(
      await ui.banner(phone.page).getByText(a.displayName).first().isVisible(),
      'the banner names the signed-in person to assistive technology at 375 px',
    ).toBe(true);
  });
});

/** The colour actually painted behind the chat: the first non-transparent background up the tree. */
function effectiveBackground(p: Person): Promise<string> {
  return ui.chat(p.page).evaluate((main) => {
    for (let el: Element | null = main; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (bg && bg !== 'transparent' && !/^rgba\(.*,\s*0\)$/.test(bg)) return bg;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  });
}

/** Whether the room list and the chat extend to the bottom of the window (the app fills the screen). */
function fillsViewport(p: Person): Promise<{ rooms: boolean; chat: boolean }> {
  return p.page.evaluate(() => {
    const reaches = (el: Element | null) =>
      !!el && Math.abs(el.getBoundingClientRect().bottom - window.innerHeight) <= 1;
    return {
      rooms: reaches(document.querySelector('nav[aria-label="Rooms"]')),
      chat: reaches(document.querySelector('main')),
    };
  });
}
