#!/usr/bin/env bash
# `npm test`: builds (or finds in the cache) the test servers, then runs every test file against
# one shared environment. Arguments, if any, are the test files to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
servers=$(bash test/env/build-servers.sh kube etcd pebble helm traefik promtool monitoring-crds gateway-crds)
while IFS= read -r line; do export "${line?}"; done <<<"$servers"
# The Node that runs the tests, and (through test/env/run.ts) every process they start:
# KUBE_LEGO_NODE if set (test/node24.sh sets it to the image's Node 24), else the Node that runs
# npm (a bare `node` only outside npm).
node_bin=${KUBE_LEGO_NODE:-${npm_node_execpath:-node}}
# The image's tests (test/image/) need the image: it is built here first, when they are among
# the files (all files by default), with test/image/build.sh (`npm run image:build`; cached, a
# warm build takes under a minute). If the build fails, its output is above and the image tests
# fail saying so; the other tests still run.
if [[ $# -eq 0 ]] || printf '%s\n' "$@" | grep -q '^test/image/'; then
  image_started=$SECONDS
  if bash test/image/build.sh >/dev/null; then
    echo "[test-env] image built in $((SECONDS - image_started))s" >&2
  else
    export KUBE_LEGO_IMAGE_BUILD_FAILED="exit $?"
    echo "[test-env] FAILED to build the image (test/image/build.sh); the test/image tests will fail" >&2
  fi
fi
# Every job and responder process the tests start runs the build the image runs (dist/, bundled
# by scripts/build-dist.ts; test/support/built-entry.ts), so it is rebuilt from this checkout first.
"$node_bin" --import tsx scripts/build-dist.ts
echo "[test-env] node $("$node_bin" --version) ($node_bin)" >&2
exec "$node_bin" --import tsx test/env/run.ts "$@"
