import { describe, expect, it } from 'vitest';
import { clientAddress } from '.';

describe('clientAddress', () => {
  it('is the peer address when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    expect(clientAddress('::ffff:127.0.0.1', '1.2.3.4', 0)).toBe('127.0.0.1');
    expect(clientAddress(undefined, undefined, 0)).toBe('unknown');
  });
  it('takes the entry the nearest trusted proxy appended, not the client-supplied ones', () => {
    // client forged "6.6.6.6"; real client 203.0.113.9; one trusted proxy appended it.
    expect(clientAddress('10.0.0.5', '6.6.6.6, 203.0.113.9', 1)).toBe('203.0.113.9');
    // two trusted hops: ingress appended 203.0.113.9, an internal LB appended 10.0.0.4
    expect(clientAddress('10.0.0.5', '6.6.6.6, 203.0.113.9, 10.0.0.4', 2)).toBe('203.0.113.9');
  });
  it('uses the leftmost entry when there are fewer entries than trusted hops', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.9', 2)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', '', 1)).toBe('10.0.0.5');
  });
});
