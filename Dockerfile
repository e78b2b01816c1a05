# mtls-guard webhook image. Multi-stage: build with dev dependencies, then ship production
# dependencies and the compiled JavaScript only, as user 65532.
# The Node version matches the `node` devDependency in package.json; a test keeps them in step.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The image brings its own Node; skip the `node` package's download and the prepare build.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["serve"]
