/**
 * Runs once per `vitest run --project browser`: checks that Chromium is installed and builds the
 * web client, which the gateway serves at `/` (it looks for webapp/dist when it starts, so the
 * build must come before any stack).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/infra';
import { CHROMIUM_PATH, SCREENSHOT_DIR } from './support';

export default function setup(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install it with \`bash tests/infra/browser\``);
  }
  if (!existsSync(join(REPO_ROOT, 'webapp', 'package.json'))) {
    throw new Error('webapp/ is missing: there is no web client to test');
  }
  process.stderr.write('[browser] building the web client (npm run build -w @parley/webapp)…\n');
  execFileSync('npm', ['run', '-s', 'build', '-w', '@parley/webapp'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!existsSync(join(REPO_ROOT, 'webapp', 'dist', 'index.html'))) {
    throw new Error('the web client build produced no webapp/dist/index.html');
  }
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
}
