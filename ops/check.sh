#!/usr/bin/env bash
# ops/check.sh — the Prometheus rules and the Alertmanager config, checked by their own tools
# (Debian's promtool and amtool; `bash tests/infra/observability` installs them if missing):
#
# 1. `promtool check rules`: ops/prometheus/rules.yml parses, every expression is valid PromQL,
#    every template renders.
# 2. `promtool test rules`: the unit tests in ops/prometheus/rules.test.yml (series in, alerts and
#    recorded values out).
# 3. `amtool check-config`: ops/alertmanager/alertmanager.yml is a valid Alertmanager config.
# 4. `amtool config routes test`: where alerts go — each severity of rules.yml reaches its
#    receiver, grouped as intended.
#
# Runs every check, prints each failure, exits non-zero if any failed. PROMTOOL / AMTOOL override
# the tools found on PATH.
set -uo pipefail
cd "$(dirname "$0")"

PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
AMTOOL=${AMTOOL:-$(command -v amtool || true)}
[[ -x $PROMTOOL ]] || { echo "[ops/check] promtool not found: run bash tests/infra/observability" >&2; exit 2; }
[[ -x $AMTOOL ]] || { echo "[ops/check] amtool not found: run bash tests/infra/observability" >&2; exit 2; }

RULES=prometheus/rules.yml
RULE_TESTS=prometheus/rules.test.yml
AM_CONFIG=alertmanager/alertmanager.yml

failed=0
run() {
  local what=$1
  shift
  local out
  if out=$("$@" 2>&1); then
    printf '[ops/check] ok    %s\n' "$what"
  else
    printf '[ops/check] FAIL  %s\n%s\n' "$what" "$out" >&2
    failed=1
  fi
}

run "promtool check rules $RULES" "$PROMTOOL" check rules "$RULES"
run "promtool test rules $RULE_TESTS" "$PROMTOOL" test rules "$RULE_TESTS"
run "amtool check-config $AM_CONFIG" "$AMTOOL" check-config "$AM_CONFIG"

# route RECEIVER LABEL=VALUE...: an alert with these labels is routed to RECEIVER (and only it).
route() {
  local receiver=$1
  shift
  run "route {$*} → $receiver" "$AMTOOL" config routes test --config.file="$AM_CONFIG" \
    --verify.receivers="$receiver" "$@"
}

# Every severity the rules use, with a real alert of each.
route pager alertname=ParleyShardDown severity=page service=messages database=messages shard=a
route pager alertname=ParleyHighErrorRate severity=page service=message-write kind=cloudevents
route pager alertname=ParleyConsumerStalled severity=page group=message-write
route ticket alertname=ParleyConsumerLagHigh severity=ticket group=notify
route ticket alertname=ParleyTargetDown severity=ticket job=functions instance=127.0.0.1:9521
route ticket alertname=ParleyScaleToZeroFlapping severity=ticket service=search
# No severity (a rule someone added without one) still reaches someone: the root's ticket queue.
route ticket alertname=SomethingElse service=rooms

# Every severity in rules.yml is one the routes above cover (a new one would fall to the root).
severities=$(grep -oE '^\s+severity: [a-z]+' "$RULES" | awk '{print $2}' | sort -u | tr '\n' ' ')
if [[ $severities == "page ticket " ]]; then
  printf '[ops/check] ok    severities in %s: %s\n' "$RULES" "$severities"
else
  printf '[ops/check] FAIL  severities in %s are "%s", expected "page ticket "\n' "$RULES" "$severities" >&2
  failed=1
fi

exit "$failed"
