#!/usr/bin/env bash
# Runs one command against a fresh test environment (servers built or taken from the cache),
# e.g. `bash test/env/with-env.sh node --import tsx bench/reconcile.ts`. The command finds the
# environment through KUBE_LEGO_TEST_ENV (test/env/context.ts); everything stops when it ends.
# It runs on the Node that runs npm (as test/run-tests.sh does), and so does a bare `node` in the
# command: test/env/run.ts puts its own Node first on the command's PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
servers=$(bash test/env/build-servers.sh kube etcd pebble helm)
while IFS= read -r line; do export "${line?}"; done <<<"$servers"
exec "${npm_node_execpath:-node}" --import tsx test/env/run.ts --exec "$@"
