/**
 * Origin allow-list for WebSocket handshakes. Browsers always send `Origin`;
 * a request without one comes from a non-browser client (a bot, k6), which
 * cannot be tricked into using a victim's cookies, so it is allowed. `*`
 * allows every origin (for development only).
 *
 * @example originAllowed('https://chat.example', ['https://chat.example']) // true
 */
export function originAllowed(origin: string | undefined, allowList: readonly string[]): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowList.includes('*')) return true;
  return allowList.includes(origin.replace(/\/$/, ''));
}
