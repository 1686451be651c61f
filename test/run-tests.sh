#!/usr/bin/env bash
# `npm test`: builds (or finds in the cache) the test servers, then runs every test file against
# one shared environment. Arguments, if any, are the test files to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
servers=$(bash test/env/build-servers.sh kube etcd pebble helm promtool monitoring-crds)
while IFS= read -r line; do export "${line?}"; done <<<"$servers"
# The Node that runs the tests, and (through test/env/run.ts) every process they start:
# KUBE_LEGO_NODE if set (test/node24.sh sets it to the image's Node 24), else the Node that runs
# npm (a bare `node` only outside npm).
node_bin=${KUBE_LEGO_NODE:-${npm_node_execpath:-node}}
echo "[test-env] node $("$node_bin" --version) ($node_bin)" >&2
exec "$node_bin" --import tsx test/env/run.ts "$@"
