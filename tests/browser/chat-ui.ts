/**
 * The web client as a person sees it, through the accessible names of the spec
 * (/tmp/webapp-spec.md, "accessible names are a CONTRACT"): locators and the actions built on them.
 * Every wait here waits for a condition in the page, never for time.
 */
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Person } from './support';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const ui = {
  authHeading: (page: Page) => page.getByRole('heading', { level: 1, name: 'Parley' }),
  banner: (page: Page) => page.getByRole('banner'),
  connection: (page: Page) => page.getByRole('status', { name: 'Connection' }),
  rooms: (page: Page) => page.getByRole('navigation', { name: 'Rooms' }),
  /** The room's button in the list: its accessible name starts with the room's display name. */
  roomButton: (page: Page, name: string) =>
    ui.rooms(page).getByRole('button', { name: new RegExp(`^${escapeRe(name)}`) }),
  chat: (page: Page) => page.getByRole('main'),
  chatTitle: (page: Page, name: string) =>
    ui.chat(page).getByRole('heading', { level: 2, name, exact: true }),
  log: (page: Page) => page.getByRole('log', { name: 'Messages' }),
  messages: (page: Page) => ui.log(page).getByTestId('message'),
  /** Messages whose text contains `text`. */
  messagesWith: (page: Page, text: string) => ui.messages(page).filter({ hasText: text }),
  composer: (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true }),
  sendButton: (page: Page) => page.getByRole('button', { name: 'Send', exact: true }),
  dialog: (page: Page, name: string) => page.getByRole('dialog', { name }),
  alert: (page: Page) => page.getByRole('alert'),
  searchBox: (page: Page) => page.getByRole('searchbox', { name: 'Search messages', exact: true }),
  searchResults: (page: Page) => page.getByRole('region', { name: 'Search results' }),
  /** The results of the last search; `data-message-id` and `data-room-id` name each. */
  searchHits: (page: Page) => ui.searchResults(page).getByTestId('search-hit'),
  /** The message the room was opened at (a search result). */
  jumpedMessage: (page: Page) =>
    ui.log(page).locator('[data-testid="message"][data-jumped="true"]'),
};

/** Waits until the connection status reads `text` ("Connected", "Reconnecting…", …). */
export async function expectConnection(page: Page, text: string, timeout = 30_000): Promise<void> {
  await expect
    .poll(async () => (await ui.connection(page).textContent())?.trim(), { timeout })
    .toBe(text);
}

/** Signed in: the banner names the person (a narrow layout may hide it visually) and the socket is up. */
async function waitSignedIn(person: Person): Promise<void> {
  const { page } = person;
  await ui.banner(page).getByText(person.displayName).first().waitFor({ state: 'attached' });
  await expectConnection(page, 'Connected');
}

/** Signs up through the auth screen and waits until the person is signed in and connected. */
export async function signUpThroughUi(person: Person): Promise<void> {
  const { page } = person;
  await ui.authHeading(page).waitFor();
  const submit = page.getByRole('button', { name: 'Sign up', exact: true });
  if (!(await submit.isVisible())) {
    await page.getByRole('button', { name: 'Create an account' }).click();
  }
  await page.getByLabel('Username', { exact: true }).fill(person.username);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await page.getByLabel('Display name', { exact: true }).fill(person.displayName);
  await submit.click();
  await waitSignedIn(person);
}

/** Logs in through the auth screen and waits until the person is signed in and connected. */
export async function logInThroughUi(person: Person): Promise<void> {
  const { page } = person;
  await ui.authHeading(page).waitFor();
  const submit = page.getByRole('button', { name: 'Log in', exact: true });
  if (!(await submit.isVisible())) {
    await page.getByRole('button', { name: 'I already have an account' }).click();
  }
  await page.getByLabel('Username', { exact: true }).fill(person.username);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await submit.click();
  await waitSignedIn(person);
}

/** Creates a group room through the "New room" dialog, adding people by username. */
export async function createRoomThroughUi(
  page: Page,
  name: string,
  usernames: string[],
): Promise<void> {
  await page.getByRole('button', { name: 'New room', exact: true }).click();
  const dialog = ui.dialog(page, 'New room');
  await dialog.waitFor();
  await dialog.getByLabel('Room name', { exact: true }).fill(name);
  for (const username of usernames) {
    await dialog.getByLabel('Find people', { exact: true }).fill(username);
    await dialog.getByRole('button', { name: `Add ${username}`, exact: true }).click();
  }
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 20_000 });
}

/** Opens a room from the list (waiting for it to appear there) and waits for its chat view. */
export async function openRoom(page: Page, name: string): Promise<void> {
  const title = ui.chatTitle(page, name);
  if (await title.isVisible()) return;
  await ui.roomButton(page, name).click({ timeout: 20_000 });
  await title.waitFor();
  await ui.log(page).waitFor();
}

/** Types a message and presses Enter. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await ui.composer(page).fill(text);
  await ui.composer(page).press('Enter');
}

/** The one message containing `text` (fails if there are several). */
export function messageWith(page: Page, text: string): Locator {
  return ui.messagesWith(page, text);
}

/** Waits until exactly `n` messages contain `text`. */
export async function expectMessageCount(
  page: Page,
  text: string,
  n: number,
  timeout = 20_000,
): Promise<void> {
  await expect.poll(() => ui.messagesWith(page, text).count(), { timeout }).toBe(n);
}

/** Waits until the message containing `text` has `data-status` = `status`. */
export async function expectStatus(
  page: Page,
  text: string,
  status: 'sent' | 'pending' | 'failed',
  timeout = 20_000,
): Promise<void> {
  await expect
    .poll(() => ui.messagesWith(page, text).first().getAttribute('data-status'), { timeout })
    .toBe(status);
}

/**
 * Searches for `q` with the search box (Enter) until a result contains `text`, searching again
 * each second: a message becomes searchable about a second after it is sent. Returns that result.
 */
export async function searchUntilFound(
  page: Page,
  q: string,
  text: string,
  timeout = 30_000,
): Promise<Locator> {
  const box = ui.searchBox(page);
  await box.fill(q);
  const hit = ui.searchHits(page).filter({ hasText: text });
  await expect
    .poll(
      async () => {
        if ((await hit.count()) > 0) return true;
        await box.press('Enter');
        return false;
      },
      { timeout, interval: 1000 },
    )
    .toBe(true);
  return hit;
}

/** Searches for `q` (Enter) and waits for the answer "No messages match “q”". */
export async function searchFindsNothing(page: Page, q: string): Promise<void> {
  await ui.searchBox(page).fill(q);
  await ui.searchBox(page).press('Enter');
  await ui.searchResults(page).getByText(`No messages match “${q}”`).waitFor();
  expect(await ui.searchHits(page).count()).toBe(0);
}

/** Where a message sits in the scrolled message list: fully inside the visible part or not. */
export function inView(message: Locator): Promise<boolean> {
  return message.evaluate((m) => {
    const log = m.closest('[role="log"]');
    if (!log) return false;
    const box = m.getBoundingClientRect();
    const view = log.getBoundingClientRect();
    return box.top >= view.top - 1 && box.bottom <= view.bottom + 1 && box.height > 0;
  });
}

/**
 * The element that scrolls the message list: the log itself or its nearest scrollable ancestor.
 */
export async function scrollContainer(page: Page): Promise<Locator> {
  const handle = await ui.log(page).evaluateHandle((log) => {
    for (let el: HTMLElement | null = log as HTMLElement; el; el = el.parentElement) {
      const { overflowY } = getComputedStyle(el);
      if ((overflowY === 'auto' || overflowY === 'scroll') && el.scrollHeight > el.clientHeight)
        return el;
    }
    return log as HTMLElement;
  });
  await handle.evaluate((el) => el.setAttribute('data-pw-scroller', ''));
  await handle.dispose();
  return page.locator('[data-pw-scroller]');
}
