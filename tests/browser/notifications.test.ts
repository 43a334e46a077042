/**
 * Unread counts, mentions, typing, presence and "Seen" in Chromium against the real stack
 * (docs/notifications.md): a badge and the tab title for a message in another room, cleared by
 * reading it (and stored: a reload agrees); a mention in the inbox, opened at its message; the
 * typing line, which goes away by itself; a DM's online dot and "Seen".
 * Screenshot: mentions-desktop-light (tests/artifacts/screenshots/).
 */

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  expectConnection,
  expectMessageCount,
  logInThroughUi,
  messageWith,
  openRoom,
  sendMessage,
  ui,
} from './chat-ui';
import {
  createRoomByApi,
  type Person,
  screenshot,
  sendByProtocol,
  signUpByApi,
  tag,
  useBrowserHarness,
} from './support';

const h = useBrowserHarness();

/** The data-testids of the web client (webapp/README.md). */
const live = {
  roomUnread: (page: Page, roomId: string) => page.getByTestId(`room-unread-${roomId}`),
  mentionsButton: (page: Page) => page.getByTestId('mentions-button'),
  mentionsCount: (page: Page) => page.getByTestId('mentions-count'),
  mentionsPanel: (page: Page) => page.getByTestId('mentions-panel'),
  mentionItems: (page: Page) => live.mentionsPanel(page).getByTestId('mention-item'),
  typingLine: (page: Page) => page.getByTestId('typing-line'),
  presence: (page: Page, userId: string) => page.getByTestId(`presence-${userId}`),
};

/** Ann and Bob, signed up by API. */
async function pair() {
  const a = await h.person('ann');
  const b = await h.person('bob');
  const [accA, accB] = await Promise.all([signUpByApi(h.api, a), signUpByApi(h.api, b)]);
  return { a, b, accA, accB };
}

/** The unread count the server holds for `roomId` (`GET /rooms`). */
async function serverUnread(token: string, roomId: string): Promise<number | undefined> {
  const { rooms } = await h.api.call<{ rooms: { id: string; unread: number }[] }>(
    'GET',
    '/api/v1/rooms',
    { token },
  );
  return rooms.find((r) => r.id === roomId)?.unread;
}

const typingText = (p: Person) => live.typingLine(p.page).textContent();

describe('unread counts, mentions, typing and presence in Chromium', () => {
  it('a message in another room raises its badge and the tab title; opening the room reads it', async () => {
    const { a, accA, accB } = await pair();
    const nameA = `Alpha ${tag()}`;
    const nameB = `Bravo ${tag()}`;
    await createRoomByApi(h.api, accA.token, nameA, [accB.user.id]);
    const roomB = await createRoomByApi(h.api, accA.token, nameB, [accB.user.id]);
    await logInThroughUi(a);
    await openRoom(a.page, nameA);
    const badge = live.roomUnread(a.page, roomB.id);
    expect(await badge.count()).toBe(0);
    expect(await a.page.title()).toBe('Parley');

    await sendByProtocol(h.api, accB, roomB.id, [`First in Bravo ${tag()}`]);
    await expect.poll(() => badge.getAttribute('data-count'), { timeout: 20_000 }).toBe('1');
    await expect.poll(() => a.page.title()).toBe('(1) Parley');
    await sendByProtocol(h.api, accB, roomB.id, [`Second in Bravo ${tag()}`]);
    await expect.poll(() => badge.getAttribute('data-count'), { timeout: 20_000 }).toBe('2');
    await expect.poll(() => a.page.title()).toBe('(2) Parley');
    // In words for a screen reader, and the row is bold.
    expect(await badge.textContent()).toContain('2 unread messages');
    expect(await ui.roomButton(a.page, nameB).getAttribute('class')).toContain('unread');
    // The server counts the same.
    await expect.poll(() => serverUnread(accA.token, roomB.id)).toBe(2);

    await openRoom(a.page, nameB);
    await badge.waitFor({ state: 'detached' });
    await expect.poll(() => a.page.title()).toBe('Parley');
    // The read is stored: the server's count drops to 0 …
    await expect.poll(() => serverUnread(accA.token, roomB.id), { timeout: 20_000 }).toBe(0);
    // … so back in room A, and after a reload, room B has no badge.
    await openRoom(a.page, nameA);
    expect(await badge.count()).toBe(0);
    await a.page.reload();
    await expectConnection(a.page, 'Connected');
    await ui.chatTitle(a.page, nameA).waitFor();
    await ui.roomButton(a.page, nameB).waitFor();
    expect(await badge.count()).toBe(0);
    expect(await a.page.title()).toBe('Parley');
  });

  it('a mention reaches the inbox: the bell counts it, the panel lists it, a click opens the message', async () => {
    const { a, b, accA, accB } = await pair();
    const roomName = `Mentions ${tag()}`;
    await createRoomByApi(h.api, accA.token, roomName, [accB.user.id]);
    await Promise.all([logInThroughUi(a), logInThroughUi(b)]);
    await openRoom(b.page, roomName);
    expect(await live.mentionsCount(a.page).count()).toBe(0);

    // Bob names Ann (a member) and someone who does not exist.
    const ghost = `ghost_${tag()}`;
    const text = `@${a.username} hello, and @${ghost} too ${tag()}`;
    await sendMessage(b.page, text);
    await expectMessageCount(b.page, text, 1);
    // Bob's view marks the member's name only.
    await expect
      .poll(() => messageWith(b.page, text).locator('.mention').allTextContents())
      .toEqual([`@${a.username}`]);

    await expect
      .poll(() => live.mentionsCount(a.page).textContent(), { timeout: 30_000 })
      .toBe('1');
    expect(await live.mentionsButton(a.page).getAttribute('aria-label')).toBe('Mentions, 1 unread');
    await live.mentionsButton(a.page).click();
    await live.mentionsPanel(a.page).waitFor();
    const item = live.mentionItems(a.page).filter({ hasText: text });
    await expect.poll(() => item.count(), { timeout: 20_000 }).toBe(1);
    expect(await item.getAttribute('data-read')).toBe('false');
    await item.getByText(b.displayName).waitFor();
    await item.getByText(`in ${roomName}`).waitFor();
    await screenshot(a.page, 'mentions-desktop-light');

    await item.click();
    await ui.chatTitle(a.page, roomName).waitFor();
    const opened = ui.jumpedMessage(a.page);
    await opened.filter({ hasText: text }).waitFor();
    // The row that mentions Ann is marked, and her name in it.
    expect(await opened.getAttribute('data-mentions-me')).toBe('true');
    await expect
      .poll(() => opened.locator('.mention').allTextContents())
      .toEqual([`@${a.username}`]);
    expect(await live.mentionsPanel(a.page).count()).toBe(0);
    // Read: the bell's count goes, and the entry says so when the panel opens again.
    await live.mentionsCount(a.page).waitFor({ state: 'detached', timeout: 20_000 });
    await live.mentionsButton(a.page).click();
    await expect
      .poll(() => live.mentionItems(a.page).filter({ hasText: text }).getAttribute('data-read'), {
        timeout: 20_000,
      })
      .toBe('true');
  });

  it('the typing line names who types and goes away by itself about 6 s after they stop', async () => {
    const { a, b, accA, accB } = await pair();
    const roomName = `Typing ${tag()}`;
    await createRoomByApi(h.api, accA.token, roomName, [accB.user.id]);
    await Promise.all([logInThroughUi(a), logInThroughUi(b)]);
    await Promise.all([openRoom(a.page, roomName), openRoom(b.page, roomName)]);
    expect(await typingText(a)).toBe('');
    expect(await live.typingLine(a.page).getAttribute('aria-live')).toBe('polite');

    await ui.composer(b.page).click();
    await b.page.keyboard.type('Hello th', { delay: 40 });
    const stoppedAt = Date.now();
    await expect
      .poll(() => typingText(a), { timeout: 15_000, interval: 100 })
      .toBe(`${b.displayName} is typing…`);
    // Nobody is shown typing to themself.
    expect(await typingText(b)).toBe('');
    await expect.poll(() => typingText(a), { timeout: 12_000, interval: 200 }).toBe('');
    const shownFor = Date.now() - stoppedAt;
    // LIMITS.typingShowMs (6 s) after the last relayed frame, which went at the first key.
    expect(shownFor).toBeGreaterThan(3_000);
    expect(shownFor).toBeLessThan(8_000);

    // Typing again shows it again; the message ends it at once, without waiting 6 s.
    await b.page.keyboard.type(' again');
    await expect
      .poll(() => typingText(a), { timeout: 15_000, interval: 100 })
      .toBe(`${b.displayName} is typing…`);
    await ui.composer(b.page).press('Enter');
    await expectMessageCount(a.page, 'Hello th again', 1);
    await expect.poll(() => typingText(a), { timeout: 1_500, interval: 100 }).toBe('');
  });

  it('a DM shows whether the other person is online, and "Seen" under what they have read', async () => {
    const { a, b, accA, accB } = await pair();
    await h.api.call('POST', '/api/v1/dms', { token: accA.token, body: { userId: accB.user.id } });
    // Ann first: her member list says Bob is offline; a `presence` frame says he came online.
    await logInThroughUi(a);
    await expect
      .poll(() => live.presence(a.page, accB.user.id).getAttribute('data-online'), {
        timeout: 20_000,
      })
      .toBe('false');
    await logInThroughUi(b);
    // Ann's DM row and its header: Bob is online.
    const bobOnAnnsList = ui.rooms(a.page).getByTestId(`presence-${accB.user.id}`);
    await expect
      .poll(() => bobOnAnnsList.getAttribute('data-online'), { timeout: 20_000 })
      .toBe('true');
    await openRoom(a.page, b.displayName);
    await expect
      .poll(() =>
        ui.chat(a.page).getByTestId(`presence-${accB.user.id}`).getAttribute('data-online'),
      )
      .toBe('true');

    const text = `Did you see this ${tag()}`;
    await sendMessage(a.page, text);
    await expectMessageCount(a.page, text, 1);
    expect(await ui.log(a.page).getByTestId('seen').count()).toBe(0);
    // Bob opens the DM and reads it: Ann's message says "Seen".
    await openRoom(b.page, a.displayName);
    await expectMessageCount(b.page, text, 1);
    await messageWith(a.page, text).getByTestId('seen').waitFor({ timeout: 20_000 });
    expect(await ui.log(a.page).getByTestId('seen').count()).toBe(1);

    // Bob leaves: his dot goes out (his last socket closed; a presence flush later).
    await b.context.close();
    await expect
      .poll(() => live.presence(a.page, accB.user.id).first().getAttribute('data-online'), {
        timeout: 20_000,
      })
      .toBe('false');
  });
});
