import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ChatScenarioSchema,
  loadScenarios,
  parseScenarios,
  SCENARIOS_FILE,
  StressScenarioSchema,
  withOverrides,
} from './scenarios';

const raw = () => JSON.parse(readFileSync(SCENARIOS_FILE, 'utf8'));

describe('the scenario file', () => {
  it('is valid, and read as written (extra keys such as $comment dropped)', () => {
    const s = loadScenarios();
    const file = raw();
    expect(s.chat.users).toBe(file.chat.users);
    expect(s.stress.kneeP99Ms).toBe(file.stress.kneeP99Ms);
    expect(s.httpMix.weights).toEqual(file.httpMix.weights);
    expect('$comment' in s).toBe(false);
  });

  it('is refused with every bad field named', () => {
    const file = raw();
    file.chat.ratePerSecond = 0;
    delete file.soak.sockets;
    file.stress.kneeAchievedRatio = 1.5;
    const err = (() => {
      try {
        parseScenarios(file, 'x.json');
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(err).toContain('chat.ratePerSecond');
    expect(err).toContain('soak.sockets');
    expect(err).toContain('stress.kneeAchievedRatio');
  });

  it('refuses a chat with rooms of one member (no one to deliver to)', () => {
    const file = raw();
    file.chat.users = file.chat.rooms;
    expect(() => parseScenarios(file)).toThrow(/2 users per room/);
  });
});

describe('withOverrides', () => {
  const s = loadScenarios();

  it('replaces the numbers given and keeps the rest', () => {
    const c = withOverrides(ChatScenarioSchema, s.chat, { ratePerSecond: 500, users: undefined });
    expect(c.ratePerSecond).toBe(500);
    expect(c.users).toBe(s.chat.users);
    expect(s.chat.ratePerSecond).not.toBe(500); // the loaded scenario is not changed
  });

  it('refuses an override the file would not be allowed to hold', () => {
    expect(() => withOverrides(ChatScenarioSchema, s.chat, { ratePerSecond: 0 })).toThrow(
      /ratePerSecond/,
    );
    expect(() =>
      withOverrides(StressScenarioSchema, s.stress, { maxRate: s.stress.startRate - 1 }),
    ).toThrow(/maxRate/);
  });
});
