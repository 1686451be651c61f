#!/usr/bin/env bash
# Builds, once, the servers the integration tests run against, and caches them outside the repo.
#
#   kube-apiserver  k8s.io/kubernetes (wrapper module test/env/go/kube-apiserver)
#   etcd            go.etcd.io/etcd/server/v3 (wrapper module test/env/go/etcd)
#   pebble, pebble-challtestsrv  github.com/letsencrypt/pebble/v2 (test/env/go/pebble)
#   helm            helm.sh/helm/v3 (test/env/go/helm)
#   actionlint      github.com/rhysd/actionlint (test/env/go/actionlint; checks .github/workflows,
#                   built only when asked for: .ci/run does)
#   traefik         github.com/traefik/traefik/v3 (test/env/go/traefik; ~400 s, 3 GB cold)
#   promtool        github.com/prometheus/prometheus (test/env/go/promtool)
#   monitoring-crds the ServiceMonitor and PrometheusRule CRDs, from the Go module
#                   github.com/prometheus-operator/prometheus-operator (example/prometheus-operator-crd)
#   gateway-crds    the Gateway API standard-channel CRDs, from the Go module
#                   sigs.k8s.io/gateway-api (config/crd/standard)
#
# Peers the benches compare against, built only when asked for (never by default, nor by CI):
#   lego            the lego CLI, github.com/go-acme/lego/v5 (bench/peers/go/lego; HTTP-01 only,
#                   see its go.mod), for bench/issuance.ts
#   cert-manager    cert-manager's controllers, github.com/cert-manager/cert-manager, through a
#                   main of our own (bench/peers/go/cert-manager/main.go says why), and its CRDs
#                   (deploy/crds of the same module), for bench/reconcile.ts
#
# Cache: $KUBE_LEGO_TEST_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/kube-lego-ts/test-env, one
# folder per component keyed by its version and a hash of its wrapper's go.mod and go.sum, so a
# changed pin builds once and a warm run builds nothing.
#
# Binaries the user already has are used instead of building:
#   KUBEBUILDER_ASSETS  folder holding etcd and kube-apiserver (the envtest convention)
#   PEBBLE_ASSETS       folder holding pebble and pebble-challtestsrv
#   HELM_ASSETS         folder holding helm
#   ACTIONLINT_ASSETS   folder holding actionlint
#   TRAEFIK_ASSETS      folder holding traefik
#   PROMTOOL_ASSETS     folder holding promtool
#   MONITORING_CRDS     folder holding monitoring.coreos.com_{servicemonitors,prometheusrules}.yaml
#   GATEWAY_CRDS        folder holding gateway.networking.k8s.io_*.yaml (the standard channel)
#   LEGO_ASSETS         folder holding lego
#   CERT_MANAGER_ASSETS folder holding cert-manager-controller and cert-manager's CRDs
#
# Prints one line per component: NAME=<folder holding its binaries>. Exits non-zero, naming the
# component, if any build fails.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${KUBE_LEGO_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-lego-ts/test-env}
mkdir -p "$cache"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

log() { printf '[test-env] %s\n' "$*" >&2; }

# module NAME -> the wrapper module's folder: test/env/go/NAME, or bench/peers/go/NAME for peers.
module() {
  if [ -d "$here/go/$1" ]; then printf '%s' "$here/go/$1"; else printf '%s' "$here/../../bench/peers/go/$1"; fi
}

# key NAME VERSION -> cache folder for that build. The hash covers go.mod, go.sum and any other
# file of the wrapper but tools.go (a peer's own main, a stand-in module), in that order, so the
# keys of wrappers that hold only go.mod, go.sum and tools.go are what they always were.
key() {
  local sum
  sum=$(cd "$(module "$1")" &&
    find . -type f ! -path ./go.mod ! -path ./go.sum ! -name tools.go | LC_ALL=C sort |
    xargs cat go.mod go.sum | sha256sum | cut -c1-12)
  printf '%s/%s-%s-%s' "$cache" "$1" "$2" "$sum"
}

# build NAME VERSION OUT_FOLDER LDFLAGS TAGS PACKAGE:BINARY...
build() {
  local name=$1 version=$2 out=$3 ldflags=$4 tags=$5
  shift 5
  local tmp="$out.partial.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  log "building $name $version (first run only; cached in $out)"
  local started=$SECONDS spec pkg bin
  for spec in "$@"; do
    pkg=${spec%%:*}
    bin=${spec##*:}
    if ! (cd "$(module "$name")" && /usr/bin/time -f "%M" -o "$tmp/$bin.maxrss" \
      go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$tmp/$bin" "$pkg"); then
      rm -rf "$tmp"
      log "FAILED to build $name $version ($pkg); see the go output above"
      exit 1
    fi
    log "built $bin in $((SECONDS - started))s, peak memory $(($(cat "$tmp/$bin.maxrss") / 1024)) MB"
  done
  rm -rf "$out" && mv "$tmp" "$out"
}

# from_env VAR NAME BINARIES... -> prints the folder if VAR names one holding every binary.
from_env() {
  local var=$1 name=$2 dir
  shift 2
  dir=${!var:-}
  [ -n "$dir" ] || return 1
  for b in "$@"; do
    if [ ! -x "$dir/$b" ]; then
      log "$var=$dir has no executable $b; set it to a folder holding: $*"
      return 3
    fi
  done
  log "$name: using $var=$dir"
  printf '%s' "$dir"
}

k8s_ldflags() {
  local v=${KUBE_VERSION#v} major minor
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%.*}
  local date
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local x p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    x+=" -X $p.gitTreeState=clean -X $p.gitCommit=0000000000000000000000000000000000000000"
    x+=" -X $p.buildDate=$date"
  done
  printf '%s' "-s -w$x"
}

want=${*:-kube etcd pebble helm traefik promtool monitoring-crds gateway-crds}
for component in $want; do
  case $component in
    kube)
      dir=$(from_env KUBEBUILDER_ASSETS kube-apiserver etcd kube-apiserver) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir=$(key kube-apiserver "$KUBE_VERSION")
        [ -x "$dir/kube-apiserver" ] || build kube-apiserver "$KUBE_VERSION" "$dir" "$(k8s_ldflags)" \
          "selinux,notest,grpcnotrace" k8s.io/kubernetes/cmd/kube-apiserver:kube-apiserver
      }
      echo "KUBE_APISERVER_DIR=$dir"
      ;;
    etcd)
      dir=$(from_env KUBEBUILDER_ASSETS etcd etcd kube-apiserver) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir=$(key etcd "$ETCD_VERSION")
        [ -x "$dir/etcd" ] || build etcd "$ETCD_VERSION" "$dir" "-s -w" "" go.etcd.io/etcd/server/v3:etcd
      }
      echo "ETCD_DIR=$dir"
      ;;
    pebble)
      dir=$(from_env PEBBLE_ASSETS pebble pebble pebble-challtestsrv) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir=$(key pebble "$PEBBLE_VERSION")
        [ -x "$dir/pebble" ] && [ -x "$dir/pebble-challtestsrv" ] || build pebble "$PEBBLE_VERSION" "$dir" \
          "-s -w -X main.version=$PEBBLE_VERSION" "" \
          github.com/letsencrypt/pebble/v2/cmd/pebble:pebble \
          github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv:pebble-challtestsrv
      }
      echo "PEBBLE_DIR=$dir"
      ;;
    helm)
      dir=$(from_env HELM_ASSETS helm helm) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir=$(key helm "$HELM_VERSION")
        [ -x "$dir/helm" ] || build helm "$HELM_VERSION" "$dir" \
          "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "" helm.sh/helm/v3/cmd/helm:helm
      }
      echo "HELM_DIR=$dir"
      ;;
    actionlint)
      dir=$(from_env ACTIONLINT_ASSETS actionlint actionlint) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir=$(key actionlint "$ACTIONLINT_VERSION")
        [ -x "$dir/actionlint" ] || build actionlint "$ACTIONLINT_VERSION" "$dir" \
          "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" "" \
          github.com/rhysd/actionlint/cmd/actionlint:actionlint
      }
      echo "ACTIONLINT_DIR=$dir"
      ;;
    traefik)
      dir=$(from_env TRAEFIK_ASSETS traefik traefik) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir=$(key traefik "$TRAEFIK_VERSION")
        [ -x "$dir/traefik" ] || build traefik "$TRAEFIK_VERSION" "$dir" \
          "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" "" \
          github.com/traefik/traefik/v3/cmd/traefik:traefik
      }
      echo "TRAEFIK_DIR=$dir"
      ;;
    promtool)
      dir=$(from_env PROMTOOL_ASSETS promtool promtool) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir=$(key promtool "$PROMTOOL_VERSION")
        [ -x "$dir/promtool" ] || build promtool "$PROMTOOL_VERSION" "$dir" "-s -w" "" \
          github.com/prometheus/prometheus/cmd/promtool:promtool
      }
      echo "PROMTOOL_DIR=$dir"
      ;;
    monitoring-crds)
      crds="monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml"
      # shellcheck disable=SC2086
      dir=$(from_env MONITORING_CRDS monitoring-crds $crds) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir="$cache/monitoring-crds-$PROMETHEUS_OPERATOR_VERSION"
        [ -f "$dir/monitoring.coreos.com_prometheusrules.yaml" ] || {
          log "fetching the monitoring CRDs $PROMETHEUS_OPERATOR_VERSION (first run only; cached in $dir)"
          module=$(cd "$cache" && GOFLAGS= go mod download -json \
            "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
            sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
          if [ -z "$module" ]; then
            log "FAILED to download github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
            exit 1
          fi
          rm -rf "$dir.partial.$$" && mkdir -p "$dir.partial.$$"
          for f in $crds; do cp "$module/example/prometheus-operator-crd/$f" "$dir.partial.$$/"; done
          rm -rf "$dir" && mv "$dir.partial.$$" "$dir"
        }
      }
      echo "MONITORING_CRDS_DIR=$dir"
      ;;
    gateway-crds)
      # The standard channel only: the one Traefik v3.6 implements (Gateway API Standard v1.4).
      crds="gateway.networking.k8s.io_gatewayclasses.yaml gateway.networking.k8s.io_gateways.yaml gateway.networking.k8s.io_httproutes.yaml gateway.networking.k8s.io_referencegrants.yaml gateway.networking.k8s.io_grpcroutes.yaml gateway.networking.k8s.io_backendtlspolicies.yaml"
      # shellcheck disable=SC2086
      dir=$(from_env GATEWAY_CRDS gateway-crds $crds) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir="$cache/gateway-crds-$GATEWAY_API_VERSION"
        [ -f "$dir/gateway.networking.k8s.io_gateways.yaml" ] || {
          log "fetching the Gateway API CRDs $GATEWAY_API_VERSION (first run only; cached in $dir)"
          module=$(cd "$cache" && GOFLAGS= go mod download -json \
            "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
            sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
          if [ -z "$module" ]; then
            log "FAILED to download sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION"
            exit 1
          fi
          rm -rf "$dir.partial.$$" && mkdir -p "$dir.partial.$$"
          for f in $crds; do cp "$module/config/crd/standard/$f" "$dir.partial.$$/"; done
          rm -rf "$dir" && mv "$dir.partial.$$" "$dir"
        }
      }
      echo "GATEWAY_CRDS_DIR=$dir"
      ;;
    lego)
      dir=$(from_env LEGO_ASSETS lego lego) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir=$(key lego "$LEGO_VERSION")
        # lego_dnslight with no lego_dns_* tag: no DNS provider; the proxy refuses ~20 of their SDKs.
        [ -x "$dir/lego" ] || build lego "$LEGO_VERSION" "$dir" "-s -w -X main.version=$LEGO_VERSION" \
          lego_dnslight github.com/go-acme/lego/v5:lego
      }
      echo "LEGO_DIR=$dir"
      ;;
    cert-manager)
      dir=$(from_env CERT_MANAGER_ASSETS cert-manager cert-manager-controller) && rc=0 || rc=$?
      [ $rc -le 1 ] || exit $rc
      [ $rc -eq 0 ] || {
        dir=$(key cert-manager "$CERT_MANAGER_VERSION")
        [ -x "$dir/cert-manager-controller" ] && [ -f "$dir/crds/cert-manager.io_certificates.yaml" ] || {
          build cert-manager "$CERT_MANAGER_VERSION" "$dir" \
            "-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$CERT_MANAGER_VERSION" "" \
            .:cert-manager-controller
          src=$(cd "$(module cert-manager)" && go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)
          mkdir -p "$dir/crds" && cp "$src"/deploy/crds/*.yaml "$dir/crds/" && chmod u+w "$dir"/crds/*.yaml
        }
      }
      echo "CERT_MANAGER_DIR=$dir"
      ;;
    *)
      log "unknown component '$component' (known: kube etcd pebble helm traefik actionlint promtool monitoring-crds gateway-crds lego cert-manager)"
      exit 2
      ;;
  esac
done
