#!/usr/bin/env bash
# Makes sure a Node 24 LTS binary is on this machine and prints its path (one line on stdout).
#
# Node 24 is the runtime of Parley's images (functions/Dockerfile, connection-gateway/Dockerfile);
# machines here may only have an older Node. The npm registry serves Node's own Linux builds as the
# package `node-linux-<arch>`; this installs that package into a cache outside the repository
# (${XDG_CACHE_HOME:-~/.cache}/parley/node-v<version>-linux-<arch>/) once, and afterwards only
# checks it (no network, a few ms).
#
#   PARLEY_NODE=$(bash scripts/ensure-node24.sh)      # e.g. the image test runs the bundles on it
#   PATH="$(dirname "$(bash scripts/ensure-node24.sh)"):$PATH" npx vitest run --project unit
#
# PARLEY_NODE24_VERSION overrides the pinned version (keep it on the 24 line, as the images' base).
# Exits non-zero with a message on stderr when it cannot provide the binary.
set -euo pipefail

version="${PARLEY_NODE24_VERSION:-24.22.3}"
die() {
  echo "ensure-node24: $*" >&2
  exit 1
}

case "$version" in
24.*) ;;
*) die "PARLEY_NODE24_VERSION=$version is not a Node 24 version" ;;
esac
case "$(uname -s)" in
Linux) ;;
*) die "only Linux is supported (the npm package is node-linux-<arch>); install Node $version yourself" ;;
esac
case "$(uname -m)" in
x86_64 | amd64) arch=x64 ;;
aarch64 | arm64) arch=arm64 ;;
*) die "no node-linux package for CPU $(uname -m)" ;;
esac

cache="${XDG_CACHE_HOME:-$HOME/.cache}/parley"
dir="$cache/node-v$version-linux-$arch"
bin="$dir/bin/node"

# Fast path: already installed and it is the version asked for.
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "v$version" ]; then
  echo "$bin"
  exit 0
fi

command -v npm >/dev/null || die "npm is needed to fetch node-linux-$arch@$version"
command -v tar >/dev/null || die "tar is needed to unpack node-linux-$arch@$version"
mkdir -p "$cache" || die "cannot create $cache"
tmp=$(mktemp -d "$cache/.node-$version.XXXXXX") || die "cannot create a temporary folder in $cache"
trap 'rm -rf "$tmp"' EXIT

echo "ensure-node24: fetching node-linux-$arch@$version from the npm registry…" >&2
if ! tarball=$(cd "$tmp" && npm pack --silent --no-audit --no-fund "node-linux-$arch@$version" 2>"$tmp/npm.err" | tail -n 1); then
  cat "$tmp/npm.err" >&2
  die "npm could not fetch node-linux-$arch@$version (is the npm registry reachable?)"
fi
[ -f "$tmp/$tarball" ] || die "npm pack produced no tarball for node-linux-$arch@$version"
mkdir -p "$tmp/unpacked"
tar -xzf "$tmp/$tarball" -C "$tmp/unpacked" || die "cannot unpack $tarball"
[ -f "$tmp/unpacked/package/bin/node" ] || die "$tarball has no bin/node"
chmod +x "$tmp/unpacked/package/bin/node"
got=$("$tmp/unpacked/package/bin/node" --version 2>/dev/null) ||
  die "the downloaded node does not run on this machine"
[ "$got" = "v$version" ] || die "the downloaded node says $got, expected v$version"

# One rename puts it in place; if a concurrent run got there first, its copy is as good.
rm -rf "$dir"
mv -T "$tmp/unpacked/package" "$dir" 2>/dev/null || [ -x "$bin" ] || die "cannot install into $dir"
echo "ensure-node24: installed Node $got at $bin" >&2
echo "$bin"
