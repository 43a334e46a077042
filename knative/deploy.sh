#!/usr/bin/env bash
# Builds, pushes and applies Parley to the cluster of the current kubectl context, in one command:
#
#   REGISTRY=registry.example.com TAG=1.4.0 bash knative/deploy.sh                 # everything
#   REGISTRY=registry.example.com TAG=1.4.1 bash knative/deploy.sh message-write   # one deployable
#
# OVERLAY=prod (default) or dev. DRY_RUN=1 builds nothing and applies nothing: it prints the commands
# and leaves the rendered manifests in $OUT (default: a temp file, printed). The overlay's committed
# image tags are left alone: the tag is set in a temporary copy (kustomize edit set image).
#
# Order: the namespace, ConfigMap, topics and migration Jobs first (label parley.dev/stage=setup), wait
# for the Jobs, then everything else, so no function revision starts on a schema it does not know.
# Needs docker (or a compatible CLI), kubectl, and the Secret parley-secrets (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${REGISTRY:?set REGISTRY, e.g. registry.example.com}"
: "${TAG:?set TAG, e.g. 1.4.0}"
overlay=${OVERLAY:-prod}
ns=parley
dry=${DRY_RUN:-}

run() {
  printf '+ %s\n' "$*" >&2
  if [ "$dry" != 1 ]; then "$@"; fi
}

declare -A kind_of=()
while read -r name kind; do kind_of[$name]=$kind; done < <(npx tsx knative/src/generate.ts --names)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${!kind_of[@]}"); fi
for t in "${targets[@]}"; do
  [ -n "${kind_of[$t]:-}" ] || { echo "no deployable $t (see eventing/src/deployments.ts)" >&2; exit 2; }
done

# 1. Bundles and images.
run npm run build
for t in "${targets[@]}"; do
  image="$REGISTRY/parley/$t:$TAG"
  if [ "${kind_of[$t]}" = gateway ]; then
    run docker build -f connection-gateway/Dockerfile -t "$image" .
  else
    run docker build -f functions/Dockerfile --build-arg "FUNCTION=$t" -t "$image" .
  fi
  run docker push "$image"
done

# 2. Render the overlay with the new tags (kustomize from knative/schemas/fetch.sh).
bash knative/schemas/fetch.sh
kustomize="${PARLEY_KNATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/parley/knative}/bin/kustomize"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r knative/base knative/components knative/overlays "$work/"
for t in "${targets[@]}"; do
  (cd "$work/overlays/$overlay" && "$kustomize" edit set image "parley/$t=$REGISTRY/parley/$t:$TAG")
done
out=${OUT:-$(mktemp --suffix=.yaml)}
"$kustomize" build "$work/overlays/$overlay" >"$out"
echo "rendered $overlay → $out" >&2

# 3. Apply: setup (and migrations) first, then the rest.
if [ "$dry" != 1 ] && ! kubectl get secret parley-secrets -n "$ns" >/dev/null 2>&1; then
  echo "Secret $ns/parley-secrets is missing: create it first (docs/operations.md)" >&2
  exit 1
fi
if [ $# -gt 0 ]; then
  for t in "${targets[@]}"; do
    sel="app.kubernetes.io/name=$t"
    if grep -q "^  name: $t-migrate\$" "$out"; then
      job="$sel,app.kubernetes.io/component=migration"
      run kubectl delete job -n "$ns" -l "$job" --ignore-not-found --wait
      run kubectl apply -f "$out" -l "$job"
      run kubectl wait job -n "$ns" -l "$job" --for=condition=complete --timeout=10m
    fi
    run kubectl apply -f "$out" -l "$sel"
  done
else
  run kubectl delete job -n "$ns" -l app.kubernetes.io/component=migration --ignore-not-found --wait
  run kubectl apply -f "$out" -l parley.dev/stage=setup
  run kubectl wait job -n "$ns" -l app.kubernetes.io/component=migration --for=condition=complete --timeout=10m
  run kubectl apply -f "$out"
fi
