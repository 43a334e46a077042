#!/usr/bin/env bash
# `npm test`: everything, on a fresh machine. Installs dependencies, checks types and lint, fetches
# the Knative/Kubernetes schemas the manifest tests validate against, runs the unit tests, installs
# Node 24 (the images' runtime, from the npm registry) and bundles every deployable, brings up the
# real services (tests/infra/up installs MariaDB, Redis, Kafka and Elasticsearch if missing), runs
# the contract, image and integration tests against them — every deployable from its bundle, on
# Node 24 — then the web client's browser tests in Chromium (tests/infra/browser installs it if
# missing), and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "typecheck (tsc --noEmit, strict)"
npx tsc -p tsconfig.json
npx tsc -p webapp/tsconfig.json

step "lint and format (biome)"
npx biome check .

step "Knative and Kubernetes schemas, kustomize (knative/schemas/fetch.sh; cached outside the repo)"
bash knative/schemas/fetch.sh

step "unit tests (no services)"
npx vitest run --project unit

step "Node 24 for the bundles (scripts/ensure-node24.sh), and the bundles (npm run build)"
PARLEY_NODE="$(bash scripts/ensure-node24.sh)"
export PARLEY_NODE
echo "bundles run on $("$PARLEY_NODE" --version) ($PARLEY_NODE)"
npm run -s build

step "real services (tests/infra/up)"
started_infra=0
if [ "${PARLEY_KEEP_INFRA:-}" != "1" ]; then started_infra=1; fi
bash tests/infra/up
cleanup() {
  if [ "$started_infra" = 1 ]; then bash tests/infra/down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

step "contract, image and integration tests (real MariaDB ×2, Redis, Kafka, Elasticsearch)"
npx vitest run --project real

step "browser tests (Chromium)"
# Installs Debian's chromium if missing; the browser tests run their own stack on ports 28080/28100+.
bash tests/infra/browser
npx vitest run --project browser
