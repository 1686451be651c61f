#!/usr/bin/env bash
# Runs one command against a fresh test environment (servers built or taken from the cache),
# e.g. `bash test/env/with-env.sh node --import tsx bench/reconcile.ts`. The command finds the
# environment through KUBE_LEGO_TEST_ENV (test/env/context.ts); everything stops when it ends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
servers=$(bash test/env/build-servers.sh kube etcd pebble helm)
while IFS= read -r line; do export "${line?}"; done <<<"$servers"
exec node --import tsx test/env/run.ts --exec "$@"
