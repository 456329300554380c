# syntax=docker/dockerfile:1
# The Pipewright image: runs `pipewright serve` for the project in /project (mounted, or copied in by
# an image built FROM this one). Production dependencies with better-sqlite3 compiled from source, the
# TypeScript build, then a slim runtime without compilers that runs as the unprivileged `node` user.

# Production dependencies. The native module is compiled here, against this image's Node headers, so
# no prebuilt binary is downloaded and no compiler reaches the runtime image.
FROM node:24-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
# Only the compiled addon of better-sqlite3 is needed at run time: its C sources, the SQLite
# amalgamation and the object files (about 25 MB) are dropped.
RUN npm ci --omit=dev --no-audit --no-fund \
 && node -e "new (require('better-sqlite3'))(':memory:').close()" \
 && cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node /tmp/better_sqlite3.node \
 && rm -rf build deps src \
 && mkdir -p build/Release \
 && mv /tmp/better_sqlite3.node build/Release/better_sqlite3.node

# The TypeScript build: dev dependencies live in this stage only. No install script is needed to compile.
FROM node:24-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# the compiled code, then the tree kernels' module it assembles, stored next to it (dist/ml/tree/kernels.wasm)
COPY scripts/kernels.mjs ./scripts/
RUN npm run build

# The runtime: what the npm package ships (bin, dist, templates) and its production dependencies.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /opt/pipewright
# tini is PID 1: it forwards SIGTERM to serve (which drains its requests) and reaps the training runs
# that POST /train starts.
COPY --from=deps /usr/bin/tini /usr/bin/tini
COPY --from=deps /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY templates ./templates
# The project folder belongs to `node`: serve writes its logs and the embedded prediction log there.
RUN ln -s /opt/pipewright/bin/pipewright.js /usr/local/bin/pipewright \
 && mkdir /project \
 && chown node:node /project
WORKDIR /project
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then((response) => process.exit(response.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["pipewright", "serve", "--host", "0.0.0.0", "--port", "8080"]
