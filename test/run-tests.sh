#!/usr/bin/env bash
# `npm test`: builds (or finds in the cache) the test servers, then runs every test file against
# one shared environment. Arguments, if any, are the test files to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
servers=$(bash test/env/build-servers.sh kube etcd pebble helm)
while IFS= read -r line; do export "${line?}"; done <<<"$servers"
exec node --import tsx test/env/run.ts "$@"
