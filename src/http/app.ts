import { createRequire } from 'node:module';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from '../shared/logger.ts';
import { registerErrorHandler } from './error-handler.ts';
import { healthRoutes } from './health.routes.ts';
import type { Metrics } from './metrics.ts';
import { registerRawJsonParser } from './raw-body.ts';

export interface HttpDeps {
  logger: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** Fastify's trustProxy: false unless the operator names the reverse proxy (SPARSAM_TRUST_PROXY). */
  trustProxy?: boolean | number | string;
  ping(): Promise<void>;
}

/** Plugins that add routes (webhooks, api, web); the composition root passes them in. */
export type RouteModule = (app: FastifyInstance) => Promise<void> | void;

type SerializerBuilder = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer']
>;

/**
 * Fastify's own response serializer builder (fast-json-stringify with Ajv and its formats), loaded when the first
 * route with a JSON response schema is compiled, not with every app: sparsam's routes validate and answer with zod
 * and declare no such schema, so an idle server does not hold the modules. A module that fails to load throws
 * Node's own error (MODULE_NOT_FOUND with its name) at that route's registration.
 */
function lazySerializerBuilder(): SerializerBuilder {
  let factory: SerializerBuilder | undefined;
  return (externalSchemas, options) => {
    factory ??= (
      createRequire(import.meta.url)('@fastify/fast-json-stringify-compiler') as { (): SerializerBuilder }
    )();
    return factory(externalSchemas, options);
  };
}

/**
 * Builds the Fastify app: raw-body JSON, size limit, error mapping, request metrics, health routes, then every route
 * module given. No route here touches SQL: they call core services handed in by the composition root.
 */
export async function buildHttpApp(deps: HttpDeps, modules: readonly RouteModule[] = []): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    // A hop count is documented (https://fastify.dev/docs/latest/Reference/Server/#trustproxy) but not typed.
    trustProxy: (deps.trustProxy ?? false) as boolean | string,
    return503OnClosing: true,
    requestIdHeader: false,
    schemaController: { compilersFactory: { buildSerializer: lazySerializerBuilder() } },
  });
  registerRawJsonParser(app);
  registerErrorHandler(app);
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequests
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    return payload;
  });
  await app.register(async (scope) => healthRoutes(scope, { ping: deps.ping, metrics: deps.metrics.registry }));
  for (const module of modules) await app.register(async (scope) => module(scope));
  return app;
}
