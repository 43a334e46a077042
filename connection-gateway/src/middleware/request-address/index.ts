/**
 * The client's address on every API request, for the per-address budgets (HTTP rate limit,
 * login and sign-up throttles): `c.var.clientAddress` is what clientAddress() reads from the
 * socket and X-Forwarded-For (TRUSTED_PROXY_HOPS), `c.var.addressKey` the unit a budget is kept
 * per — the address itself for IPv4, its /64 for IPv6 (one subscriber usually holds a whole /64,
 * so per-/128 budgets would be per-attempt budgets).
 *
 * @example api.use('*', requestAddress(limits.TRUSTED_PROXY_HOPS)); … c.var.addressKey
 */
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { clientAddress } from '../client-address';

declare module 'hono' {
  interface ContextVariableMap {
    clientAddress: string;
    addressKey: string;
  }
}

/** @param trustedProxyHops proxies in front that each append to X-Forwarded-For (0: none). */
export function requestAddress(trustedProxyHops: number): MiddlewareHandler {
  return async function setRequestAddress(c, next) {
    // @hono/node-server puts the request's IncomingMessage into the env; app.request() in tests may not.
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const address = clientAddress(
      incoming?.socket?.remoteAddress,
      c.req.header('x-forwarded-for'),
      trustedProxyHops,
    );
    c.set('clientAddress', address);
    c.set('addressKey', addressKey(address));
    await next();
  };
}

/**
 * The unit of a per-address budget: an IPv4 address as it is, an IPv6 address's /64.
 * @example addressKey('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 */
export function addressKey(address: string): string {
  const bare = address.split('%')[0] as string; // a zone id (fe80::1%eth0) is not part of the address
  if (!isIPv6(bare)) return address;
  const [head = '', tail] = bare.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  const prefix = groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
