# syntax=docker/dockerfile:1
# sluice container image: the agent as PID 1 on a distroless Node.js runtime (no shell, no package
# manager), production dependencies only. Build: docker build -t sluice:dev .
#
# Node.js: an LTS line the package's engines allow (Node 20 reached its end of life in April 2026).
ARG NODE_MAJOR=24

# 1. Compile the TypeScript sources.
FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

# 2. Production dependencies only (no compilers, test tools, helm/kubectl).
FROM node:${NODE_MAJOR}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Runtime: distroless, no shell. The agent runs as uid 0 with every capability dropped by the pod
# spec: the container runtime writes log files root-owned with mode 0640 (docs/kubernetes.md).
FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12
WORKDIR /app
ENV NODE_ENV=production
# A fixed 16 MiB young generation (two 8 MiB semi-spaces). V8 otherwise starts it small and
# doubles it whenever enough has survived, so under steady load it went 4 -> 8 -> 16 -> 32 MiB over
# ~25 minutes and RSS climbed with it (W4, 5,000 lines/s: ~70 -> ~96 MiB, no leak). 8 MiB
# semi-spaces still hold a fast reader's in-flight batches (W1 peaks ~10 MiB lower than with V8's
# default, same CPU; 4 MiB ones promote them: +30 MiB, +30 % CPU). The minimum is a node flag
# (NODE_OPTIONS refuses it); the maximum is in NODE_OPTIONS so a busy node can still raise it
# (docs/kubernetes.md, "Tuning a busy node").
# --heap-growing-percent=100: after each full GC V8 lets the old generation grow to 2x what
# survived, instead of up to 4x on a small heap. Under a network sink's load (W2) promoted batches
# grew it to ~120 MiB between full GCs with ~30 MiB live; with this, ~60 MiB: peak RSS 230 -> 172
# MiB at the same CPU (50 gave 161 MiB but ~5 % more CPU in full GCs; bench/RESULTS.md, "Issue 17:
# memory"). A V8 flag NODE_OPTIONS refuses, so it is on the command line.
ENV NODE_OPTIONS="--max-semi-space-size=8"
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY package.json ./
# Exec form: node itself is PID 1 and receives SIGTERM, which sluice handles (graceful shutdown within
# --graceful-shutdown-limit-secs); there is no shell or init in between to swallow it.
ENTRYPOINT ["/nodejs/bin/node", "--min-semi-space-size=8", "--heap-growing-percent=100", "/app/dist/src/cli.js"]
CMD ["--config", "/etc/sluice/sluice.yaml"]
EXPOSE 8686
