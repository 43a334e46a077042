/** The docs that are contracts stay true to the code. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEventsDoc } from '@parley/eventing/catalog-doc';
import { renderDeploymentsDoc } from '@parley/eventing/deployments-doc';
import { CLOSE_CODES, ERROR_CODES } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/infra';

const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');

describe('docs', () => {
  it('docs/events.md is what the catalog renders (run `npm run docs:events` after changing the catalog)', () => {
    expect(read('docs/events.md')).toBe(renderEventsDoc());
  });

  it('docs/deployments.md is what the deployment table renders (run `npm run docs:deployments`)', () => {
    expect(read('docs/deployments.md')).toBe(renderDeploymentsDoc());
  });

  it('docs/protocol.md lists every error code with its HTTP status', () => {
    const doc = read('docs/protocol.md');
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
  });

  it('docs/protocol.md lists every close code', () => {
    const doc = read('docs/protocol.md');
    for (const { code } of Object.values(CLOSE_CODES))
      expect(doc).toMatch(new RegExp(`\\|\\s*${code}\\s*\\|`));
  });
});
