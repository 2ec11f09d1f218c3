import { createRequire } from 'node:module';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifySchemaCompiler,
  type FastifyServerOptions,
} from 'fastify';
import type { Logger } from '../shared/logger.ts';
import { registerErrorHandler } from './error-handler.ts';
import { healthRoutes } from './health.routes.ts';
import type { Metrics } from './metrics.ts';
import { registerRawJsonParser } from './raw-body.ts';
import { lazyRequestLogger } from './request-logger.ts';

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

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type SerializerBuilder = NonNullable<CompilersFactory['buildSerializer']>;
type ValidatorBuilder = (externalSchemas: unknown, options: unknown) => FastifySchemaCompiler<unknown>;

const require = createRequire(import.meta.url);

/*
 * Fastify's own schema compilers (Ajv for validation, fast-json-stringify with Ajv's formats for responses) are loaded
 * when the first route with a JSON schema is registered, not with every app: sparsam's routes validate and answer
 * with zod and declare no such schema, so an idle server does not hold Ajv. A module that fails to load throws
 * Node's own error (MODULE_NOT_FOUND with its name) at that route's registration, which Fastify names.
 */

function lazySerializerBuilder(): SerializerBuilder {
  let factory: SerializerBuilder | undefined;
  return (externalSchemas, options) => {
    factory ??= (require('@fastify/fast-json-stringify-compiler') as () => SerializerBuilder)();
    return factory(externalSchemas, options);
  };
}

/**
 * Validation with Fastify's Ajv compiler. A validator builder passed in makes Fastify hand header schemas over as
 * written instead of lower-casing their property names first, so they are refused here with an error at
 * registration rather than compiled into a check that never matches Node's lower-case header names.
 */
function lazyValidatorBuilder(): ValidatorBuilder {
  let factory: ValidatorBuilder | undefined;
  return (externalSchemas, options) => {
    factory ??= (require('@fastify/ajv-compiler') as () => ValidatorBuilder)();
    const compile = factory(externalSchemas, options);
    return (route) => {
      if (route.httpPart === 'headers') {
        throw new Error(`${route.method} ${route.url}: header schemas are not supported; validate headers with zod`);
      }
      return compile(route);
    };
  };
}

/**
 * Builds the Fastify app: raw-body JSON, size limit, error mapping, request metrics, health routes, then every route
 * module given. No route here touches SQL: they call core services handed in by the composition root.
 */
export async function buildHttpApp(deps: HttpDeps, modules: readonly RouteModule[] = []): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: deps.bodyLimitBytes,
    // A hop count is documented (https://fastify.dev/docs/latest/Reference/Server/#trustproxy) but not typed.
    trustProxy: (deps.trustProxy ?? false) as boolean | string,
    return503OnClosing: true,
    requestIdHeader: false,
    schemaController: {
      compilersFactory: {
        // Fastify's type is the overloaded one of @fastify/ajv-compiler; this builder has its plain call signature.
        buildValidator: lazyValidatorBuilder() as unknown as CompilersFactory['buildValidator'],
        buildSerializer: lazySerializerBuilder(),
      },
    },
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
