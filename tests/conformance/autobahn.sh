#!/usr/bin/env bash
# The Autobahn WebSocket testsuite (wstest -m fuzzingclient) against Parley, on loopback.
#
#   bash tests/conformance/autobahn.sh [all|echo|gateway|echo-defaults]     (default: all)
#
# Targets (each on a free 127.0.0.1 port, started here and stopped at the end, by pid):
#   echo     tests/conformance/echo-server.ts: the gateway's `ws` with the gateway's options,
#            echoing; most Autobahn cases need an echo server, so this shows whether `ws`, as
#            configured, conforms.
#   gateway  the embedded mode (launcher/src/embedded.ts) and its /ws?token=… (a user is signed
#            up first). Not an echo server: judged by summarize.py's protocol view and by its close
#            codes against the echo run (see docs/conformance.md).
#   echo-defaults (not in `all`; informational, not checked) the echo server with `ws`'s default
#            maxPayload (100 MiB), to show that group 9's failures against `echo` come from the
#            gateway's 64 KiB limit.
#
# wstest is Python 2.7 only. It is installed, if missing, into $AUTOBAHN_HOME (default
# ~/.cache/parley/autobahn, outside the repo): a virtualenv made with a Python 2.7 interpreter
# ($PYTHON2, else python2.7 on PATH, else pyenv's 2.7.x), holding autobahntestsuite==25.10.1
# (whose own pins: Twisted 19.10.0, autobahn 0.10.9, …) from PyPI.
#
# Environment: AUTOBAHN_HOME, PYTHON2, AUTOBAHN_OUT (report directory; default
# .parley/autobahn/<UTC time>, git-ignored), AUTOBAHN_CASES (comma-separated case ids or
# patterns, default from fuzzingclient.json: all), AUTOBAHN_TIMEOUT (seconds per wstest run,
# default 900).
# Exit: 0 all checks pass; 1 a check failed (see the summary); 2 usage; 3 wstest could not be
# installed or run here (no Python 2.7).
set -euo pipefail

TARGET="${1:-all}"
case "$TARGET" in all | echo | gateway | echo-defaults) ;; *)
  echo "usage: $0 [all|echo|gateway|echo-defaults]" >&2
  exit 2
  ;;
esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
HERE="$REPO/tests/conformance"
TSX="$REPO/node_modules/.bin/tsx"
ABT_VERSION="25.10.1"
VIRTUALENV_VERSION="20.21.1" # the last virtualenv that makes Python 2.7 environments
AUTOBAHN_HOME="${AUTOBAHN_HOME:-$HOME/.cache/parley/autobahn}"
OUT="${AUTOBAHN_OUT:-$REPO/.parley/autobahn/$(date -u +%Y%m%dT%H%M%SZ)}"
WSTEST_TIMEOUT="${AUTOBAHN_TIMEOUT:-900}"
WSTEST="$AUTOBAHN_HOME/venv/bin/wstest"

log() { echo "autobahn: $*" >&2; }

# ---------------------------------------------------------------- wstest, installed if missing
find_python2() {
  local c
  for c in "${PYTHON2:-}" python2.7 python2 pypy; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (2, 7) else 1)' 2>/dev/null; then
      command -v "$c" 2>/dev/null || echo "$c"
      return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for c in "$(pyenv root)"/versions/2.7*/bin/python2.7; do
      if [ -x "$c" ] && "$c" -c 'import ssl' 2>/dev/null; then
        echo "$c"
        return 0
      fi
    done
  fi
  return 1
}

install_wstest() {
  local py2
  if ! py2="$(find_python2)"; then
    log "no Python 2.7 interpreter found (tried \$PYTHON2, python2.7, python2, pypy, pyenv 2.7.x);"
    log "wstest (autobahntestsuite) runs on Python 2.7 only. See docs/conformance.md."
    exit 3
  fi
  log "installing autobahntestsuite==$ABT_VERSION into $AUTOBAHN_HOME with $py2"
  mkdir -p "$AUTOBAHN_HOME"
  rm -rf "$AUTOBAHN_HOME/bootstrap" "$AUTOBAHN_HOME/venv"
  python3 -m venv "$AUTOBAHN_HOME/bootstrap"
  "$AUTOBAHN_HOME/bootstrap/bin/pip" install -q "virtualenv==$VIRTUALENV_VERSION"
  "$AUTOBAHN_HOME/bootstrap/bin/virtualenv" -q -p "$py2" "$AUTOBAHN_HOME/venv"
  if ! "$AUTOBAHN_HOME/venv/bin/pip" install "autobahntestsuite==$ABT_VERSION" \
    >"$AUTOBAHN_HOME/install.log" 2>&1; then
    tail -20 "$AUTOBAHN_HOME/install.log" >&2
    log "pip install failed (full log: $AUTOBAHN_HOME/install.log)"
    exit 3
  fi
}

if ! "$WSTEST" --autobahnversion 2>/dev/null | grep -q "AutobahnTestSuite $ABT_VERSION"; then
  install_wstest
fi
VERSIONS="$("$WSTEST" --autobahnversion 2>&1 | tr '\n' ' ')"
log "$VERSIONS"

# ---------------------------------------------------------------- servers under test
PIDS=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    # Each was started with setsid: its process group is its own (tsx and its node child).
    kill -TERM -- "-$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for FILE PATTERN SECONDS PID: until FILE has PATTERN; fails if PID ends or time runs out.
wait_for() {
  for _ in $(seq $(($3 * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || break
    sleep 0.1
  done
  log "not ready: waited for '$2' in $1"
  tail -20 "$1" >&2 || true
  return 1
}

# run_wstest NAME AGENT URL: one fuzzingclient run into $OUT/NAME.
run_wstest() {
  local name="$1" agent="$2" url="$3" dir="$OUT/$1"
  mkdir -p "$dir"
  python3 - "$HERE/fuzzingclient.json" "$dir/spec.json" "$dir" "$agent" "$url" \
    "${AUTOBAHN_CASES:-}" <<'EOF'
import json, sys
src, dst, outdir, agent, url, cases = sys.argv[1:7]
spec = json.load(open(src))
spec["outdir"] = outdir
spec["servers"] = [{"agent": agent, "url": url}]
if cases:
    spec["cases"] = [c.strip() for c in cases.split(",") if c.strip()]
json.dump(spec, open(dst, "w"), indent=2)
EOF
  log "$name: wstest -m fuzzingclient against ${url%%\?*} (log: $dir/wstest.log)"
  local start=$SECONDS
  (cd "$dir" && timeout "$WSTEST_TIMEOUT" "$WSTEST" -m fuzzingclient -s spec.json) \
    >"$dir/wstest.log" 2>&1 || {
    log "$name: wstest failed or timed out (exit $?); last lines:"
    tail -20 "$dir/wstest.log" >&2
    return 1
  }
  log "$name: $((SECONDS - start)) s"
}

mkdir -p "$OUT"
STATUS=0
SUMMARY="$OUT/summary.md"
{
  echo "# Autobahn fuzzingclient run, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "- $VERSIONS"
  echo "- node $(node --version), ws $(node -p "require('$REPO/node_modules/ws/package.json').version")"
  echo "- $(uname -srm), $(nproc) cores"
  echo
} >"$SUMMARY"

if [ "$TARGET" = all ] || [ "$TARGET" = echo ]; then
  port="$(free_port)"
  setsid "$TSX" "$HERE/echo-server.ts" --port "$port" >"$OUT/echo-server.log" 2>&1 &
  PIDS+=("$!")
  wait_for "$OUT/echo-server.log" '^listening' 30 "$!"
  run_wstest echo ws-echo "ws://127.0.0.1:$port" || STATUS=1
  if [ -f "$OUT/echo/index.json" ]; then
    python3 "$HERE/summarize.py" "$OUT/echo" --check --allow-failed 9 >>"$SUMMARY" || STATUS=1
  fi
fi

if [ "$TARGET" = echo-defaults ]; then
  port="$(free_port)"
  setsid "$TSX" "$HERE/echo-server.ts" --port "$port" --ws-defaults \
    >"$OUT/echo-defaults-server.log" 2>&1 &
  PIDS+=("$!")
  wait_for "$OUT/echo-defaults-server.log" '^listening' 30 "$!"
  run_wstest echo-defaults ws-echo-defaults "ws://127.0.0.1:$port" || STATUS=1
  if [ -f "$OUT/echo-defaults/index.json" ]; then
    # Informational: no --check (ws's own default maxFragments, 16384, closes 9.3.1/9.3.2/9.4.1/9.4.2
    # with 1008; see docs/conformance.md).
    python3 "$HERE/summarize.py" "$OUT/echo-defaults" >>"$SUMMARY" || STATUS=1
  fi
fi

if [ "$TARGET" = all ] || [ "$TARGET" = gateway ]; then
  port="$(free_port)"
  base="http://127.0.0.1:$port"
  PORT="$port" HOST=127.0.0.1 LOG_LEVEL=warn setsid "$TSX" launcher/src/embedded.ts \
    >"$OUT/gateway.log" 2>&1 &
  GW_PID="$!"
  PIDS+=("$GW_PID")
  for _ in $(seq 600); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$GW_PID" 2>/dev/null || break
    sleep 0.1
  done
  curl -fsS "$base/healthz" >/dev/null || {
    log "the embedded gateway did not come up on $base; its log:"
    tail -20 "$OUT/gateway.log" >&2
    exit 1
  }
  password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  token="$(curl -fsS -X POST -H 'content-type: application/json' \
    -d "{\"username\":\"autobahn$RANDOM\",\"password\":\"$password\"}" \
    "$base/api/v1/auth/signup" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
  rss() { ps -o rss= --ppid "$GW_PID" 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
  rss_before="$(rss)"
  run_wstest gateway parley-gateway "ws://127.0.0.1:$port/ws?token=$token" || STATUS=1
  sleep 2
  rss_after="$(rss)"
  # TCP connections still open on the gateway's port (each case closes its own): a leak shows here.
  open_conns="$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l)"
  if [ -f "$OUT/gateway/index.json" ]; then
    compare=()
    [ -f "$OUT/echo/index.json" ] && compare=(--compare "$OUT/echo:ws-echo")
    python3 "$HERE/summarize.py" "$OUT/gateway" --check --protocol-view "${compare[@]}" \
      >>"$SUMMARY" || STATUS=1
    errors="$(grep -c '"level":"\(error\|fatal\)"' "$OUT/gateway.log" || true)"
    {
      echo "Gateway process (embedded mode): RSS ${rss_before} KiB before the run, ${rss_after} KiB after;"
      echo "TCP connections still open on its port after the run: $open_conns;"
      echo "log lines at level error/fatal: $errors (log: $OUT/gateway.log)."
      echo
    } >>"$SUMMARY"
    if [ "$open_conns" != 0 ] || [ "$errors" != 0 ]; then
      echo "CHECK FAILED: the gateway kept sockets open or logged errors" >>"$SUMMARY"
      STATUS=1
    fi
  fi
fi

cat "$SUMMARY"
log "reports: $OUT (open echo/index.html, gateway/index.html)"
exit "$STATUS"
