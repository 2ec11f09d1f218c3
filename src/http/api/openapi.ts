import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RouteModule } from '../app.ts';
import type { Authenticator } from '../auth/principal.ts';
import { ErrorSchema, type ApiRoute, type Role } from '../contract/api-route.ts';
import { metaApi } from '../contract/meta.contract.ts';
import { parseNamed, registerRoute } from './contract-route.ts';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/**
 * The OpenAPI 3.1 document of /api/v1, generated from the contract's zod schemas, the ones the routes validate with
 * (zod's toJSONSchema emits JSON Schema 2020-12, the dialect of OpenAPI 3.1). Each route module adds its contract
 * operations with {@link add}; `GET /api/v1/openapi.json` serves the result.
 */
export class OpenApiRegistry {
  readonly #operations: ApiRoute[] = [];
  readonly #webhooks = new Map<string, { summary: string; schemaName: string; schema: z.ZodType }>();
  readonly #webhookHeaders: { name: string; description: string }[] = [];

  /**
   * Documents an outgoing webhook (OpenAPI 3.1 `webhooks`): what sparsam POSTs to a registered endpoint for `name`,
   * the payload schema under `components.schemas[schemaName]`, and the signature headers every delivery carries.
   */
  addWebhook(name: string, summary: string, schemaName: string, schema: z.ZodType): void {
    if (this.#webhooks.has(name)) throw new Error(`OpenApiRegistry: webhook ${name} is documented twice`);
    this.#webhooks.set(name, { summary, schemaName, schema });
  }

  /** The request headers of every outgoing webhook (webhook-id, webhook-timestamp, webhook-signature). */
  setWebhookHeaders(headers: readonly { name: string; description: string }[]): void {
    this.#webhookHeaders.splice(0, this.#webhookHeaders.length, ...headers);
  }

  /** Adds an operation; `roles` replaces the contract's where the deployment configures them. */
  add(route: ApiRoute, roles?: readonly Role[]): void {
    const exists = this.#operations.some((o) => o.method === route.method && o.url === route.url);
    if (exists) throw new Error(`OpenApiRegistry: ${route.method} ${route.url} is documented twice`);
    this.#operations.push(roles ? { ...route, roles } : route);
  }

  /** Adds every operation of a contract area. */
  addAll(routes: Readonly<Record<string, ApiRoute>>): void {
    for (const route of Object.values(routes)) this.add(route);
  }

  operations(): readonly ApiRoute[] {
    return this.#operations;
  }

  #webhookDocs(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, w] of [...this.#webhooks].sort(([a], [b]) => a.localeCompare(b))) {
      out[name] = {
        post: {
          summary: w.summary,
          tags: ['webhooks'],
          parameters: this.#webhookHeaders.map((h) => ({
            name: h.name,
            in: 'header',
            required: true,
            description: h.description,
            schema: { type: 'string' },
          })),
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${w.schemaName}` } } },
          },
          responses: {
            '2XX': { description: 'accepted; any other answer (a redirect included) is retried with backoff' },
          },
        },
      };
    }
    return out;
  }

  document(info: { title?: string; version?: string } = {}): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of [...this.#operations].sort((a, b) => a.url.localeCompare(b.url))) {
      const params = [...op.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
      const path = op.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const parameters: Record<string, unknown>[] = params.map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      if (op.query) {
        const schema = jsonSchema(op.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, s] of Object.entries(schema.properties ?? {})) {
          parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: s });
        }
      }
      for (const header of op.headers ?? []) {
        parameters.push({
          name: header.name,
          in: 'header',
          required: false,
          description: header.description,
          schema: { type: 'string' },
        });
      }
      const r = op.response;
      const responses: Record<string, unknown> = {
        [String(r.status ?? 200)]: {
          description: r.description,
          ...(r.schema || r.contentType
            ? {
                content: {
                  [r.contentType ?? 'application/json']: { schema: r.schema ? jsonSchema(r.schema, 'output') : {} },
                },
              }
            : {}),
        },
      };
      for (const [status, description] of Object.entries(op.errors ?? {})) responses[status] = { description };
      const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      // Open operations (login steps, invitations, this document) need no credentials: no 401/403, no security.
      const open = op.access === 'public';
      if (!open) {
        responses['401'] ??= { description: 'no valid session or API token', ...error };
        responses['403'] ??= { description: `needs one of the roles: ${op.roles.join(', ')}`, ...error };
      }
      if (op.body || op.query || params.length > 0) responses['400'] ??= { description: 'invalid request', ...error };
      paths[path] ??= {};
      paths[path][op.method.toLowerCase()] = {
        summary: op.summary,
        tags: [...op.tags],
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(op.body
          ? {
              requestBody: {
                required: true,
                content: {
                  [op.bodyContentType ?? 'application/json']:
                    op.bodyContentType && op.bodyContentType !== 'application/json'
                      ? { schema: { type: 'string', contentMediaType: op.bodyContentType } }
                      : { schema: jsonSchema(op.body, 'input') },
                },
              },
            }
          : {}),
        responses,
        security: open ? [] : [{ bearer: [] }, { session: [] }],
        'x-sparsam-roles': [...op.roles],
      };
    }
    return {
      openapi: '3.1.0',
      info: {
        title: info.title ?? 'sparsam API',
        version: info.version ?? '1',
        description:
          'REST API of sparsam, the privacy-first team inbox. Staff see conversations under pseudonyms; conversations waiting for consent are never listed.',
      },
      servers: [{ url: '/' }],
      paths,
      ...(this.#webhooks.size > 0 ? { webhooks: this.#webhookDocs() } : {}),
      components: {
        schemas: {
          Error: jsonSchema(ErrorSchema, 'output'),
          ...Object.fromEntries(
            [...this.#webhooks.values()].map((w) => [w.schemaName, jsonSchema(w.schema, 'output')]),
          ),
        },
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API token (sparsam token create)' },
          session: { type: 'apiKey', in: 'cookie', name: 'sparsam_session' },
        },
      },
    };
  }
}

/**
 * Serves `GET /api/v1/openapi.json` without login: the document describes the API and holds no data, and a developer
 * reads it before they have a token.
 */
export function openApiRoutes(deps: { docs: OpenApiRegistry; authenticate: Authenticator }): RouteModule {
  deps.docs.add(metaApi.openapi);
  return (app: FastifyInstance) => {
    registerRoute(
      app,
      metaApi.openapi,
      { authenticate: deps.authenticate, parse: parseNamed },
      async (_input, _request, reply) => {
        reply.header('cache-control', 'no-store');
        return deps.docs.document();
      },
    );
  };
}
