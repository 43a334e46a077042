/**
 * Message search in Chromium against the real stack (Elasticsearch included): a Korean message
 * found by a word inside it, highlighted, and opened at its place in history; the keyboard way
 * through the panel; a refused query; and a person outside the room finding nothing.
 * Screenshots: search-desktop-light, search-phone-dark (tests/artifacts/screenshots/).
 */

import { HttpError } from '@parley/perf/client';
import { describe, expect, it } from 'vitest';
import {
  inView,
  logInThroughUi,
  openRoom,
  searchFindsNothing,
  searchUntilFound,
  ui,
} from './chat-ui';
import {
  createRoomByApi,
  PHONE,
  screenshot,
  sendByProtocol,
  signUpByApi,
  tag,
  useBrowserHarness,
} from './support';

const h = useBrowserHarness();

describe('message search in Chromium', () => {
  it('finds a Korean word, marks it, and opens the room at the message, older than the latest page', async () => {
    const a = await h.person('ann');
    const b = await h.person('bob');
    const c = await h.person('cyd');
    const [accA, accB, accC] = await Promise.all([
      signUpByApi(h.api, a),
      signUpByApi(h.api, b),
      signUpByApi(h.api, c),
    ]);
    const roomName = `Team ${tag()}`;
    const room = await createRoomByApi(h.api, accA.token, roomName, [accB.user.id]);
    const otherName = `Design review ${tag()}`;
    const other = await createRoomByApi(h.api, accA.token, otherName, [accB.user.id]);
    const target = `다음 주 회의는 화요일 ${tag()} — the planning meeting moves to Tuesday`;
    // More than a history page after it: the latest page does not hold it.
    const after = Array.from({ length: 70 }, (_, i) => `status update ${i + 1}: all green`);
    await sendByProtocol(h.api, accA, room.id, [
      'Morning! Coffee first.',
      'The release notes are drafted.',
      target,
      ...after,
    ]);
    const otherHit = `회의 notes ${tag()}: the mockups are in the shared folder.`;
    await sendByProtocol(h.api, accA, other.id, [otherHit]);

    // Bob has the other room open when he searches.
    await logInThroughUi(b);
    await openRoom(b.page, otherName);
    const page = b.page;
    await page.keyboard.press('Control+K');
    await expect
      .poll(() => ui.searchBox(page).evaluate((el) => el === document.activeElement))
      .toBe(true);

    const hit = await searchUntilFound(page, '회의', '화요일');
    expect(await hit.count()).toBe(1);
    const hitInOther = await searchUntilFound(page, '회의', otherHit);
    // Newest first: the Design review message was sent last.
    expect(
      await ui
        .searchHits(page)
        .evaluateAll((els) => els.map((el) => el.getAttribute('data-room-id'))),
    ).toEqual([other.id, room.id]);
    // The word found is in a <mark>; the rest of the body is plain text around it.
    const marks = await hit.locator('mark').allTextContents();
    expect(
      marks.some((m) => m.includes('회의')),
      `marked: ${JSON.stringify(marks)}`,
    ).toBe(true);
    expect(await hit.textContent()).toContain('다음 주');
    // The room it is in, and who sent it (looked up from the room's members).
    await expect.poll(() => hit.textContent()).toContain(a.displayName);
    expect(await hit.textContent()).toContain(roomName);
    expect(await hit.getAttribute('data-room-id')).toBe(room.id);
    await screenshot(page, 'search-desktop-light');
    // This room (Design review) or all rooms; best match or newest first.
    const results = ui.searchResults(page);
    const scope = results.getByRole('radiogroup', { name: 'Where to search' });
    await scope.getByRole('radio', { name: 'This room' }).check();
    await hit.waitFor({ state: 'detached' });
    await hitInOther.waitFor();
    expect(await ui.searchHits(page).count()).toBe(1);
    await scope.getByRole('radio', { name: 'All rooms' }).check();
    await hit.waitFor();
    const order = results.getByRole('radiogroup', { name: 'Order' });
    await order.getByRole('radio', { name: 'Best match' }).check();
    await expect.poll(() => ui.searchHits(page).count()).toBe(2);
    await order.getByRole('radio', { name: 'Newest' }).check();
    await expect
      .poll(() => ui.searchHits(page).first().getAttribute('data-room-id'))
      .toBe(other.id);
    await expect.poll(() => ui.searchHits(page).count()).toBe(2);

    // Escape closes the panel and gives the focus back to the field; ↓ goes to the result.
    await page.keyboard.press('Escape');
    await ui.searchResults(page).waitFor({ state: 'hidden' });
    expect(await ui.searchBox(page).evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await ui.searchBox(page).inputValue()).toBe('회의');
    await ui.searchBox(page).press('Enter');
    await hit.waitFor();
    const status = ui.searchResults(page).getByRole('status');
    await expect.poll(() => status.textContent()).toBe('2 messages');
    await ui.searchBox(page).press('ArrowDown');
    expect(await hitInOther.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('ArrowDown');
    expect(await hit.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');

    // The room opens at the message: in view, marked as the one jumped to.
    await ui.chatTitle(page, roomName).waitFor();
    await ui.searchResults(page).waitFor({ state: 'hidden' });
    const jumped = ui.jumpedMessage(page);
    await jumped.waitFor({ timeout: 20_000 });
    expect(await jumped.textContent()).toContain(target);
    await expect.poll(() => inView(jumped)).toBe(true);
    // It came from history older than the latest page, loaded without a hole.
    const seqs = await ui
      .messages(page)
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))));
    expect(seqs[0]).toBeLessThanOrEqual(3);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] ?? 0) + i));
    expect(seqs.at(-1)).toBe(3 + after.length);

    // A refused query says why.
    await ui.searchBox(page).fill('?!');
    await ui.searchBox(page).press('Enter');
    await ui.searchResults(page).getByRole('alert').waitFor();
    expect(await ui.searchResults(page).getByRole('alert').textContent()).toMatch(
      /can’t be run: it has no words/,
    );

    // Cyd is in neither room: the same search finds nothing, and the room itself is refused.
    await logInThroughUi(c);
    await searchFindsNothing(c.page, '회의');
    const refused = await h.api
      .call('GET', `/api/v1/search?q=${encodeURIComponent('회의')}&roomId=${room.id}`, {
        token: accC.token,
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).status).toBe(403);
  });

  it('at 375 px: the results cover the screen, and a result opens the room at the message', async () => {
    const a = await h.person('ann');
    const b = await h.person('bob', { viewport: PHONE, colorScheme: 'dark' });
    const [accA, accB] = await Promise.all([signUpByApi(h.api, a), signUpByApi(h.api, b)]);
    const roomName = `Trip ${tag()}`;
    const room = await createRoomByApi(h.api, accA.token, roomName, [accB.user.id]);
    const target = `회의 끝나고 ${tag()}: tickets are booked for the 7:40 train`;
    await sendByProtocol(h.api, accA, room.id, [
      target,
      ...Array.from({ length: 60 }, (_, i) => `packing list item ${i + 1}`),
    ]);
    await logInThroughUi(b);
    const page = b.page;
    const hit = await searchUntilFound(page, 'tickets train', 'tickets');
    const marks = await hit.locator('mark').allTextContents();
    expect(marks.map((m) => m.toLowerCase())).toEqual(expect.arrayContaining(['tickets', 'train']));
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow, 'horizontal overflow at 375 px').toBeLessThanOrEqual(0);
    await screenshot(page, 'search-phone-dark');
    await hit.click();
    await ui.chatTitle(page, roomName).waitFor();
    const jumped = ui.jumpedMessage(page);
    await jumped.waitFor({ timeout: 20_000 });
    expect(await jumped.textContent()).toContain(target);
    await expect.poll(() => inView(jumped)).toBe(true);
    await page.getByRole('button', { name: 'Back to rooms' }).click();
    await ui.rooms(page).waitFor();
  });
});
