# syntax=docker/dockerfile:1
# kube-lego-ts: one image, two programs.
#   the reconcile job (the default command):  dist/jobs/main.js [run|plan|status]
#   the HTTP-01 responder:                    dist/responder/main.js
# The image's entrypoint is node; the manifests pass the program as `args`.
#
#   docker build -t REGISTRY/kube-lego-ts:0.1.0 .
#
# Without Docker: `npm run image:build` builds the same image as an OCI layout (test/image/build.sh;
# test/image/image.test.ts keeps the two in step).
#
# Base images: pinned by tag only. No digest is written here because none could be read from a
# trustworthy source where this file was written (no registry is reachable there). To pin them,
# resolve each tag's multi-arch index digest where a registry is reachable and append it:
#   crane digest node:24-trixie-slim
#   crane digest gcr.io/distroless/nodejs24-debian13:nonroot
#   (or: docker buildx imagetools inspect IMAGE:TAG, the "Digest:" line)
# then write FROM IMAGE:TAG@sha256:<digest>. Update both together, e.g. monthly or on a Node 24
# security release, and keep the Node major in step with test/env/install-node24.sh.
#
# The build stage runs on the build machine's platform (the output is plain JavaScript with no
# native modules). The warm stage runs the image's own Node, on the target platform: Node's
# compile cache is specific to the Node version, the CPU architecture and the user, so it can
# only be made by the runtime's binary. `docker buildx build --platform linux/amd64,linux/arm64`
# therefore needs a builder per platform or QEMU (`docker run --privileged --rm
# tonistiigi/binfmt --install arm64`) for that one RUN; it takes about two seconds natively.

FROM --platform=$BUILDPLATFORM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dependency install scripts stay off: nothing here needs one.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY shared/ shared/
COPY jobs/ jobs/
COPY responder/ responder/
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Node's compile cache for the two programs, made by the runtime's Node from the files the
# runtime gets (scripts/warm-compile-cache.ts: the job's and the responder's --help, and an import
# of every chunk), each with the Node options the manifests start it with: V8 does not read a
# cache made under other flags (test/deploy/dockerfile.test.ts keeps them the manifests'). Its own stage, so that the runtime stage stays without RUN and its files stay
# root's: the script runs the loading processes as 65532, the user the pods run as (Node names
# the cache after the user id), and COPY --from gives the result to root.
FROM gcr.io/distroless/nodejs24-debian13:nonroot AS warm
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY --from=build /app/scripts/warm-compile-cache.ts /warm/
USER 0:0
RUN ["/nodejs/bin/node", "/warm/warm-compile-cache.ts", "/app", "--user", "65532:65532", "--job-node-options=--max-semi-space-size=1", "--responder-node-options=--max-semi-space-size=1 --no-concurrent-recompilation --expose-gc"]

# Runtime: Node 24 LTS on distroless Debian 13. No shell, no package manager; user 65532.
FROM gcr.io/distroless/nodejs24-debian13:nonroot
WORKDIR /app
ENV NODE_ENV=production
# Node reads the compile cache the warm stage made (the root file system is read-only: Node
# writes nothing there, and says nothing when it cannot). PORTABLE: entries are keyed by their
# path relative to the cache, as test/image/build.sh fills it outside /app.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache NODE_COMPILE_CACHE_PORTABLE=1
# The release workflow adds org.opencontainers.image.version, .revision, .source and .created.
LABEL org.opencontainers.image.title="kube-lego-ts" \
      org.opencontainers.image.description="Automatic Let's Encrypt certificates for Kubernetes Ingresses over ACME HTTP-01" \
      org.opencontainers.image.licenses="Apache-2.0"
# package.json marks dist/ as ES modules ("type": "module").
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY --from=warm /app/.node-compile-cache/ .node-compile-cache/
USER 65532:65532
# The responder's challenge port (LEGO_PORT) and metrics port (LEGO_METRICS_PORT).
EXPOSE 8080 9090
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["dist/jobs/main.js"]
