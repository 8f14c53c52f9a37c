# Updraft: one image for every role (webserver, scheduler, worker, one-shot CLI commands).
#
#   docker build -t updraft .
#   docker run --rm updraft --help
#
# Stage 1 installs every dependency and compiles src/ to dist/; stage 2 keeps only the
# production dependencies, the compiled code, bin/ and the pipelines, and runs as the
# unprivileged `node` user. See docs/deploy.md.

ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY ui ./ui
COPY schema ./schema
# `npm run build`: the TypeScript to dist/ and the web UI to dist/ui.
RUN npm run build \
    && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    UPDRAFT_FROM_DIST=1 \
    UPDRAFT_HOME=/var/lib/updraft \
    UPDRAFT_PIPELINES=/app/pipelines
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json LICENSE ./
COPY bin ./bin
COPY schema ./schema
COPY pipelines ./pipelines
# logs/ exists in the image so a volume mounted there starts owned by `node`.
RUN mkdir -p /var/lib/updraft/logs && chown -R node:node /var/lib/updraft
USER node
VOLUME ["/var/lib/updraft"]
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/updraft.js"]
CMD ["standalone", "--host", "0.0.0.0"]
