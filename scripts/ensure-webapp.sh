#!/usr/bin/env bash
# Builds the web client (webapp/dist) when it is missing or its sources (or the protocol it imports) changed since the
# last build, so `npm start` always serves the client of this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d webapp ] || exit 0
hash=$(find webapp protocol/src -path webapp/dist -prune -o -path webapp/node_modules -prune -o -type f -print0 \
  | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
stamp=webapp/dist/.source-hash
if [ -f webapp/dist/index.html ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  exit 0
fi
echo "[parley] building the web client (vite)…" >&2
npm run -s build -w @parley/webapp >&2
echo "$hash" > "$stamp"
