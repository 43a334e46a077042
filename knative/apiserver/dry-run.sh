#!/usr/bin/env bash
# Applies every object of knative/overlays/{dev,prod} to a REAL kube-apiserver with server-side
# dry-run (kubectl apply --dry-run=server --validate=strict), after installing the CRDs that
# knative/schemas/fetch.sh downloads. Exploratory and opt-in: not part of npm test.
#
#   1. bash knative/schemas/fetch.sh            CRDs + kustomize (its cache)
#      bash knative/apiserver/build.sh          kube-apiserver + kubectl from the Go module proxy,
#                                               cached in ${PARLEY_KUBE_CACHE:-~/.cache/parley/kube}
#      etcd                                     $ETCD, else `etcd` on PATH (Debian: apt-get install etcd-server)
#   2. starts etcd and kube-apiserver on 127.0.0.1 (free ports, throwaway certs, a static token,
#      AlwaysAllow), waits for /readyz
#   3. installs the CRDs (only the CustomResourceDefinition documents of the fetched files), waits
#      until they are Established
#   4. renders each overlay, applies its Namespace for real, then the whole overlay with server-side
#      dry-run and strict field validation; prints every rejection
#   5. stops what it started; exits 1 if any object was rejected (2 if the setup failed)
#
# What this checks beyond knative/src/schemas.ts: the API server's own defaulting, structural-schema
# pruning/strict field validation, CEL rules (x-kubernetes-validations), core-object validation
# (e.g. Deployment/Job/HPA/PDB semantics, name formats). What it does NOT check: Knative's and
# eventing-kafka's admission webhooks (no controllers run here), so their defaulting/validation
# (reserved env names etc.) stays with knative/src/checks.ts.
#
# OVERLAYS="dir ..." renders other kustomizations instead of overlays/dev and overlays/prod.
# KEEP_WORKDIR=1 keeps the temporary directory (logs, certs, rendered overlays).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
knative=$(dirname "$here")
say() { printf '[knative/apiserver] %s\n' "$*" >&2; }
t0=$(date +%s%N)
elapsed() { local ms=$((($(date +%s%N) - t0) / 1000000)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

bash "$knative/schemas/fetch.sh" || { say "fetch.sh failed"; exit 2; }
bash "$here/build.sh" || { say "build.sh failed"; exit 2; }

schemas="${PARLEY_KNATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/parley/knative}"
kube="${PARLEY_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/parley/kube}"
kustomize="$schemas/bin/kustomize"
apiserver="$kube/bin/kube-apiserver"
kubectl_bin="$kube/bin/kubectl"
etcd_bin="${ETCD:-$(command -v etcd || true)}"
if [ -z "$etcd_bin" ]; then
  say "no etcd: set ETCD=/path/to/etcd or install Debian's etcd-server (apt-get install etcd-server)"
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/parley-apiserver.XXXXXX")
pids=()
cleanup() {
  local i pid
  # Newest first (kube-apiserver before etcd): the apiserver's shutdown hooks write to etcd and
  # wait 30 s for it if it is already gone.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP_WORKDIR:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
etcd_client=$(free_port)
etcd_peer=$(free_port)
secure_port=$(free_port)

# --- etcd -------------------------------------------------------------------------------------
say "etcd $("$etcd_bin" --version | sed -n 's/^etcd Version: //p') on 127.0.0.1:$etcd_client"
"$etcd_bin" --name parley --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-cluster "parley=http://127.0.0.1:$etcd_peer" \
  --listen-metrics-urls "" --unsafe-no-fsync --quota-backend-bytes 1073741824 \
  >"$work/etcd.log" 2>&1 &
pids+=($!)

# --- throwaway credentials --------------------------------------------------------------------
openssl genrsa -out "$work/sa.key" 2048 2>/dev/null
openssl rsa -in "$work/sa.key" -pubout -out "$work/sa.pub" 2>/dev/null
token=$(openssl rand -hex 24)
printf '%s,parley-dry-run,parley-dry-run,system:masters\n' "$token" >"$work/tokens.csv"

# --- kube-apiserver ---------------------------------------------------------------------------
say "$("$apiserver" --version) on https://127.0.0.1:$secure_port"
"$apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_client" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$secure_port" \
  --cert-dir "$work/certs" \
  --service-cluster-ip-range 10.96.0.0/24 \
  --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$work/sa.pub" --service-account-signing-key-file "$work/sa.key" \
  --token-auth-file "$work/tokens.csv" --anonymous-auth=false \
  --authorization-mode AlwaysAllow \
  --enable-priority-and-fairness=false \
  --profiling=false --v=1 \
  >"$work/apiserver.log" 2>&1 &
pids+=($!)
apiserver_pid=$!

cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster: { server: "https://127.0.0.1:$secure_port", insecure-skip-tls-verify: true }
users:
  - name: parley
    user: { token: "$token" }
contexts:
  - name: local
    context: { cluster: local, user: parley }
current-context: local
EOF
kubectl() { "$kubectl_bin" --kubeconfig "$work/kubeconfig" "$@"; }

ready=""
for _ in $(seq 1 240); do
  if ! kill -0 "$apiserver_pid" 2>/dev/null; then break; fi
  if curl -ksf -H "Authorization: Bearer $token" "https://127.0.0.1:$secure_port/readyz" >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  say "kube-apiserver not ready; its log (tail) and etcd's:"
  tail -40 "$work/apiserver.log" >&2
  tail -15 "$work/etcd.log" >&2
  exit 2
fi
say "apiserver ready after $(elapsed)"

# --- CRDs ---------------------------------------------------------------------------------------
# Only the CustomResourceDefinition documents: the eventing-kafka release file also holds the
# controller's Deployments, RBAC, webhooks... which are not ours to check.
crds_only() {
  python3 - "$@" <<'PY'
import sys, yaml
docs = []
for path in sys.argv[1:]:
    with open(path) as f:
        docs += [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "CustomResourceDefinition"]
yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)
PY
}
crds_only "$schemas/crds/serving-service.yaml" "$schemas/crds/eventing-crds.yaml" \
  "$schemas/crds/eventing-kafka-controller.yaml" "$schemas/crds/strimzi-kafkatopic.yaml" \
  "$schemas/crds/prometheus-operator-podmonitors.yaml" \
  "$schemas/crds/prometheus-operator-prometheusrules.yaml" >"$work/crds.yaml"
say "installing $(grep -c '^kind: CustomResourceDefinition' "$work/crds.yaml") CRDs"
if ! kubectl apply --server-side --field-manager parley-dry-run -f "$work/crds.yaml" >"$work/crds.out" 2>&1; then
  cat "$work/crds.out" >&2
  say "installing the CRDs failed"
  exit 2
fi
if ! kubectl wait --for condition=Established --timeout 120s crd --all >"$work/crds-wait.out" 2>&1; then
  cat "$work/crds-wait.out" >&2
  exit 2
fi
# The discovery/OpenAPI of a freshly established CRD can lag a moment behind; kubectl needs both.
for _ in $(seq 1 60); do
  kubectl api-resources --api-group kafka.strimzi.io -o name 2>/dev/null | grep -q kafkatopics &&
    kubectl api-resources --api-group sources.knative.dev -o name 2>/dev/null | grep -q kafkasources &&
    kubectl api-resources --api-group monitoring.coreos.com -o name 2>/dev/null | grep -q podmonitors && break
  sleep 0.5
done
say "CRDs established after $(elapsed)"

# --- the overlays ---------------------------------------------------------------------------------
rejected=0
for dir in ${OVERLAYS:-"$knative/overlays/dev" "$knative/overlays/prod"}; do
  overlay=$(basename "$dir")
  rendered="$work/$overlay.yaml"
  "$kustomize" build "$dir" >"$rendered" || { say "kustomize build $dir failed"; exit 2; }
  python3 - "$rendered" >"$work/$overlay-namespaces.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "Namespace"]
yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)
PY
  objects=$(grep -c '^kind:' "$rendered")
  if [ -s "$work/$overlay-namespaces.yaml" ]; then
    kubectl apply -f "$work/$overlay-namespaces.yaml" >/dev/null || { say "creating the namespace failed"; exit 2; }
  fi
  say "$dir: $objects objects, kubectl apply --dry-run=server --validate=strict"
  kubectl apply --dry-run=server --validate=strict -f "$rendered" >"$work/$overlay.out" 2>&1
  rc=$?
  sed "s/^/  [$overlay] /" "$work/$overlay.out"
  accepted=$(grep -c '(server dry run)$' "$work/$overlay.out")
  errors=$(grep -cE '^(Error|error)' "$work/$overlay.out")
  if [ "$rc" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$accepted" -ne "$objects" ]; then
    say "$dir: REJECTED ($accepted of $objects accepted, $errors error line(s), kubectl exit $rc)"
    rejected=1
  else
    say "$dir: all $objects objects accepted"
  fi
done

say "done in $(elapsed)"
exit "$rejected"
