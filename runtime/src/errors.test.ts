import { describe, expect, it } from 'vitest';
import { asParleyError, ParleyError } from './errors';

describe('asParleyError', () => {
  it('keeps a ParleyError as it is', () => {
    const e = new ParleyError('not_member', 'no');
    expect(asParleyError(e)).toBe(e);
  });
  it('calls a dependency that cannot be reached unavailable (retry), not internal (a bug)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6380'), {
      code: 'ECONNREFUSED',
    });
    const lost = Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' });
    const redisGaveUp = Object.assign(new Error('Reached the max retries per request limit'), {
      name: 'MaxRetriesPerRequestError',
    });
    for (const err of [refused, lost, redisGaveUp, new Error('Connection is closed.')])
      expect(asParleyError(err).code).toBe('unavailable');
  });
  it('calls anything else internal', () => {
    expect(asParleyError(new TypeError('x is undefined')).code).toBe('internal');
    expect(asParleyError('a string').code).toBe('internal');
  });
});
