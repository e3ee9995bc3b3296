# syntax=docker/dockerfile:1
#
# Keyward's image: build with the dev dependencies, run with the production ones only.
#   docker build -t keyward:0.1.0 .
#   docker run --rm -p 50051:50051 -p 8080:8080 -e MONGODB_URI=mongodb://... -e REDIS_URL=redis://... \
#     -e KEYWARD_ROOT_KEY=kw_root_... keyward:0.1.0
# .ci/image-steps repeats these steps outside Docker (no Docker on CI): it reads the build stage's
# COPY lines from this file, so keep each COPY of the build context on one line.

# ---- build: npm ci (with dev dependencies), tsc, then drop the dev dependencies ----
FROM node:22-bookworm-slim AS build
WORKDIR /app
# The manifests first, so that the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY src ./src
COPY bench ./bench
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: dist/ + production node_modules + package.json, nothing else ----
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Copied as root and only readable by the `node` user: the process cannot change its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The base image's unprivileged `node` user and group, by number: Kubernetes can verify
# runAsNonRoot only for a numeric user (with `USER node` it refuses to start the container unless
# the pod sets runAsUser).
USER 1000:1000
# 50051: gRPC (grpc-js: KeyService, health, reflection, Envoy ext_authz and rate limit).
# 8080: HTTP (Connect, gRPC-Web; /healthz, /readyz, /metrics).
EXPOSE 50051 8080
# For `docker run` and Compose; Kubernetes ignores it and uses the probes in deploy/kubernetes/.
# /healthz means "the process is alive" (it does not depend on MongoDB or Redis). No curl in the
# slim image, so Node's fetch asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.KEYWARD_HTTP_PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself; Keyward drains (KEYWARD_SHUTDOWN_TIMEOUT_MS)
# and exits 0. Keyward starts no child processes, so no init is needed to reap zombies.
CMD ["node", "dist/src/main.js"]
