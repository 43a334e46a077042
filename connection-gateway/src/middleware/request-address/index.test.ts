import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { addressKey, requestAddress } from './index';

describe('requestAddress', () => {
  const app = (hops: number) => {
    const a = new Hono();
    a.use('*', requestAddress(hops));
    a.get('/', (c) => c.json({ address: c.var.clientAddress, key: c.var.addressKey }));
    return a;
  };
  const peer = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });

  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For claims', async () => {
    const res = await app(0).request(
      '/',
      { headers: { 'x-forwarded-for': '6.6.6.6' } },
      peer('::ffff:127.0.0.1'),
    );
    expect(await res.json()).toEqual({ address: '127.0.0.1', key: '127.0.0.1' });
  });

  it('takes the address the trusted proxy appended, and keys an IPv6 client by its /64', async () => {
    const res = await app(1).request(
      '/',
      { headers: { 'x-forwarded-for': '6.6.6.6, 2001:db8:0:7:1:2:3:4' } },
      peer('10.0.0.5'),
    );
    expect(await res.json()).toEqual({
      address: '2001:db8:0:7:1:2:3:4',
      key: '2001:db8:0:7::/64',
    });
  });

  it('is "unknown" without a socket (an in-process request)', async () => {
    expect(await (await app(0).request('/')).json()).toEqual({
      address: 'unknown',
      key: 'unknown',
    });
  });
});

describe('addressKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:0:0:1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['unknown', 'unknown'],
  ])('%s → %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});
