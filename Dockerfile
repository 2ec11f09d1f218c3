# sparsam container image. Build: docker build -t sparsam .   Run: see deploy/compose.yaml and docs/deployment.md.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles against Node's headers when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN if [ -f web/vite.config.ts ]; then npx vite build web; fi && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production SPARSAM_DATA_DIR=/var/lib/sparsam SPARSAM_PORT=8080
WORKDIR /app
COPY --from=build /app /app
RUN useradd --system --home /var/lib/sparsam sparsam && mkdir -p /var/lib/sparsam && chown sparsam /var/lib/sparsam \
  && chmod 700 /var/lib/sparsam
USER sparsam
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "bin/sparsam.js", "start"]
