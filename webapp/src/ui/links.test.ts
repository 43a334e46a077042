import { describe, expect, it } from 'vitest';
import { splitLinks } from './links';

describe('splitLinks', () => {
  it('leaves text without links as one plain part', () => {
    expect(splitLinks('just <b>text</b>')).toEqual([{ text: 'just <b>text</b>' }]);
  });

  it('makes http and https URLs links, keeping the text around them', () => {
    expect(splitLinks('see https://example.com/a?b=1 and http://x.org')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { text: ' and ' },
      { text: 'http://x.org', href: 'http://x.org' },
    ]);
  });

  it('leaves sentence punctuation out of the link', () => {
    expect(splitLinks('go to https://example.com.')).toEqual([
      { text: 'go to ' },
      { text: 'https://example.com', href: 'https://example.com' },
      { text: '.' },
    ]);
    expect(splitLinks('(https://example.com)')[1]?.href).toBe('https://example.com');
  });

  it('keeps a parenthesis that belongs to the URL', () => {
    const url = 'https://en.wikipedia.org/wiki/Solid_(disambiguation)';
    expect(splitLinks(`read ${url}`)[1]?.href).toBe(url);
  });

  it('never links other schemes', () => {
    for (const s of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'ftp://x.org']) {
      expect(splitLinks(s).every((p) => p.href === undefined)).toBe(true);
    }
  });

  it('does not link a URL without a host', () => {
    expect(splitLinks('https://')).toEqual([{ text: 'https://' }]);
  });
});
