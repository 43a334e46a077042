/**
 * Who is on the other end of a request, for per-address budgets (connections,
 * logins, HTTP requests). The socket's peer address, unless the gateway runs
 * behind `trustedProxyHops` proxies that each append to `X-Forwarded-For`:
 * then the entry that many hops from the right (what the nearest trusted
 * proxy saw). Entries further left are the client's own claim and never used.
 *
 * @example clientAddress('10.0.0.5', '6.6.6.6, 203.0.113.9', 1) // '203.0.113.9'
 */
export function clientAddress(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxyHops: number,
): string {
  const peer = normalize(remoteAddress ?? 'unknown');
  if (trustedProxyHops <= 0 || forwardedFor === undefined) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // The last `trustedProxyHops` entries were written by our proxies; the one
  // just left of those is the address the outermost trusted proxy saw.
  const at = hops.length - trustedProxyHops;
  if (at < 0) return normalize(hops[0] ?? peer);
  return normalize(hops[at] ?? peer);
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are one client. */
function normalize(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
