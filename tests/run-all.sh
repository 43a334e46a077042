#!/usr/bin/env bash
# `npm test`: everything, on a fresh machine. Installs dependencies, checks types and lint, checks
# the Prometheus rules and the Alertmanager config with promtool and amtool (ops/check.sh;
# tests/infra/observability installs them, and builds Jaeger, if missing), fetches the
# Knative/Kubernetes schemas the manifest tests validate against, runs the unit tests, installs
# Node 24 (the images' runtime, from the npm registry) and runs the rest on it: the unit tests again,
# the bundles of every deployable, the real services (tests/infra/up installs MariaDB, Redis, Kafka
# and Elasticsearch if missing), the contract, image and integration tests against them — every
# deployable from its bundle — then the web client's browser tests in Chromium (tests/infra/browser
# installs it if missing), then faults injected into the real stack while a room chats (tests/faults,
# on its own set of services), and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "typecheck (tsc --noEmit, strict)"
npx tsc -p tsconfig.json
npx tsc -p webapp/tsconfig.json
npx tsc -p perf/k6/tsconfig.json

step "lint and format (biome)"
npx biome check .

step "Prometheus rules and Alertmanager config (ops/check.sh)"
bash tests/infra/observability >/dev/null
bash ops/check.sh

step "Knative and Kubernetes schemas, kustomize (knative/schemas/fetch.sh; cached outside the repo)"
bash knative/schemas/fetch.sh

step "every manifest applied to a real kube-apiserver with server-side dry-run (knative/apiserver; built once, cached)"
bash knative/apiserver/dry-run.sh

step "unit tests (no services), on this machine's Node ($(node --version))"
npx vitest run --project unit

step "Node 24 (scripts/ensure-node24.sh): from here on everything runs on it — vitest, tsx, the bundles"
PARLEY_NODE="$(bash scripts/ensure-node24.sh)"
export PARLEY_NODE
PATH="$(dirname "$PARLEY_NODE"):$PATH"
export PATH
echo "node $(node --version) ($(command -v node))"

step "unit tests again, on Node 24"
npx vitest run --project unit

step "the bundles (npm run build)"
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

step "faults on the real stack (tests/faults: its own MariaDB ×2, Redis, Kafka, Elasticsearch)"
# The suite wipes, starts and at the end stops its own set of services (ports 3317/3318, 6390,
# 9192, 9210) so it can kill them; the shared set above is stopped first to leave it the cores.
if [ "$started_infra" = 1 ]; then bash tests/infra/down >/dev/null 2>&1 || true; fi
npx vitest run --project faults
