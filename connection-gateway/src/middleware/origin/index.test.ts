import { describe, expect, it } from 'vitest';
import { originAllowed } from './index';

describe('originAllowed', () => {
  const list = ['https://chat.example', 'http://localhost:8080'];
  it('allows a listed origin, with or without a trailing slash', () => {
    expect(originAllowed('https://chat.example', list)).toBe(true);
    expect(originAllowed('https://chat.example/', list)).toBe(true);
  });
  it('refuses an unlisted origin, including look-alikes', () => {
    expect(originAllowed('https://evil.example', list)).toBe(false);
    expect(originAllowed('https://chat.example.evil.example', list)).toBe(false);
    expect(originAllowed('http://chat.example', list)).toBe(false);
  });
  it('allows clients that send no Origin (not browsers)', () => {
    expect(originAllowed(undefined, list)).toBe(true);
  });
  it('allows everything with *', () => {
    expect(originAllowed('https://anything.example', ['*'])).toBe(true);
  });
});
