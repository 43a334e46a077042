import { describe, expect, it, vi } from 'vitest';
import { failpoint, parseFailpoints } from './failpoint';

describe('failpoints', () => {
  it('parses names and actions, a bare name meaning kill', () => {
    expect([
      ...parseFailpoints('message-write.after-commit, room-ops.x=error,a.b=delay:250'),
    ]).toEqual([
      ['message-write.after-commit', { kind: 'kill' }],
      ['room-ops.x', { kind: 'error' }],
      ['a.b', { kind: 'delay', ms: 250 }],
    ]);
    expect(parseFailpoints('').size).toBe(0);
  });
  it('refuses what it does not understand, rather than silently arming nothing', () => {
    expect(() => parseFailpoints('nodot')).toThrow(/<function>.<place>/);
    expect(() => parseFailpoints('a.b=explode')).toThrow(/kill, error or delay/);
  });
  it('does nothing unarmed, and fails the armed way', async () => {
    const kill = vi.fn();
    const points = parseFailpoints('a.kill,a.error=error,a.slow=delay:1');
    await failpoint('a.other', points, kill);
    expect(kill).not.toHaveBeenCalled();
    await failpoint('a.kill', points, kill);
    expect(kill).toHaveBeenCalledOnce();
    await expect(failpoint('a.error', points, kill)).rejects.toThrow(/injected failure/);
    await expect(failpoint('a.slow', points, kill)).resolves.toBeUndefined();
  });
  it('is unarmed in a process started without --failpoints', async () => {
    await expect(failpoint('message-write.after-commit')).resolves.toBeUndefined();
  });
});
