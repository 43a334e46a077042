#!/usr/bin/env bash
# `npm test`: everything, on a fresh machine. Installs dependencies, checks types and lint,
# runs the unit tests, brings up the real services (tests/infra/up installs MariaDB, Redis and
# Kafka if missing), runs the contract and integration tests against them, then the web client's
# browser tests in Chromium (tests/infra/browser installs it if missing), and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "typecheck (tsc --noEmit, strict)"
npx tsc -p tsconfig.json
npx tsc -p webapp/tsconfig.json

step "lint and format (biome)"
npx biome check .

step "unit tests (no services)"
npx vitest run --project unit

step "real services (tests/infra/up)"
started_infra=0
if [ "${PARLEY_KEEP_INFRA:-}" != "1" ]; then started_infra=1; fi
bash tests/infra/up
cleanup() {
  if [ "$started_infra" = 1 ]; then bash tests/infra/down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

step "contract and integration tests (real MariaDB ×2, Redis, Kafka, Elasticsearch)"
npx vitest run --project real

step "browser tests (Chromium)"
# Installs Debian's chromium if missing; the browser tests run their own stack on ports 28080/28100+.
bash tests/infra/browser
npx vitest run --project browser
