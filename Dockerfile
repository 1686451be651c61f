# syntax=docker/dockerfile:1
# kube-lego-ts: one image, two programs.
#   the reconcile job (the default command):  dist/jobs/main.js [run|plan|status]
#   the HTTP-01 responder:                    dist/responder/main.js
# The image's entrypoint is node; the manifests pass the program as `args`.
#
#   docker build -t REGISTRY/kube-lego-ts:0.1.0 .
#
# The build stage runs on the build machine's platform (the output is plain JavaScript with no
# native modules), so `docker buildx build --platform linux/amd64,linux/arm64` needs no emulation.

FROM --platform=$BUILDPLATFORM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dependency install scripts stay off: nothing here needs one.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared/ shared/
COPY jobs/ jobs/
COPY responder/ responder/
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime: Node 24 LTS on distroless Debian 13. No shell, no package manager; user 65532.
FROM gcr.io/distroless/nodejs24-debian13:nonroot
WORKDIR /app
ENV NODE_ENV=production
# package.json marks dist/ as ES modules ("type": "module").
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
USER 65532:65532
# The responder's challenge port (LEGO_PORT) and metrics port (LEGO_METRICS_PORT).
EXPOSE 8080 9090
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["dist/jobs/main.js"]
