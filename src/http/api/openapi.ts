import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Role } from '../../core/ports/model.ts';
import type { RouteModule } from '../app.ts';

/** One documented operation of the REST API. Paths use Fastify's `:param` style; the document shows `{param}`. */
export interface ApiOperation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Full path, e.g. `/api/v1/conversations/:id`. */
  path: string;
  summary: string;
  tags?: string[];
  /** Roles admitted; the document lists them and the 401/403 answers. */
  roles: readonly Role[];
  /** Open without a session or token (holds no data): documented with no security and no 401/403 answers. */
  public?: boolean;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Media type of the request body (default application/json); a binary upload documents its body as bytes. */
  bodyContentType?: string;
  /** Optional request headers the operation reads. */
  headers?: { name: string; description: string }[];
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/**
 * The OpenAPI 3.1 document of /api/v1, generated from the same zod schemas the routes validate with (zod's
 * toJSONSchema emits JSON Schema 2020-12, the dialect of OpenAPI 3.1). Every team registers its operations here
 * with {@link add}; `GET /api/v1/openapi.json` serves the result.
 */
export class OpenApiRegistry {
  readonly #operations: ApiOperation[] = [];

  add(operation: ApiOperation): void {
    const exists = this.#operations.some((o) => o.method === operation.method && o.path === operation.path);
    if (exists)
      throw new Error(`OpenApiRegistry: ${operation.method.toUpperCase()} ${operation.path} is documented twice`);
    this.#operations.push(operation);
  }

  operations(): readonly ApiOperation[] {
    return this.#operations;
  }

  document(info: { title?: string; version?: string } = {}): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of [...this.#operations].sort((a, b) => a.path.localeCompare(b.path))) {
      const params = [...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
      const path = op.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
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
      const responses: Record<string, unknown> = {};
      for (const [status, r] of Object.entries(op.responses)) {
        responses[status] = {
          description: r.description,
          ...(r.schema || r.contentType
            ? {
                content: {
                  [r.contentType ?? 'application/json']: { schema: r.schema ? jsonSchema(r.schema, 'output') : {} },
                },
              }
            : {}),
        };
      }
      const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      if (!op.public) {
        responses['401'] ??= { description: 'no valid session or API token', ...error };
        responses['403'] ??= { description: `needs one of the roles: ${op.roles.join(', ')}`, ...error };
      }
      if (op.body || op.query || params.length > 0) responses['400'] ??= { description: 'invalid request', ...error };
      paths[path] ??= {};
      paths[path][op.method] = {
        summary: op.summary,
        ...(op.tags ? { tags: op.tags } : {}),
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
        security: op.public ? [] : [{ bearer: [] }, { session: [] }],
        ...(op.public ? {} : { 'x-sparsam-roles': [...op.roles] }),
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
      components: {
        schemas: { Error: jsonSchema(ErrorSchema, 'output') },
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
export function openApiRoutes(deps: { docs: OpenApiRegistry }): RouteModule {
  deps.docs.add({
    method: 'get',
    path: '/api/v1/openapi.json',
    summary: 'This document (OpenAPI 3.1)',
    tags: ['meta'],
    roles: ['admin', 'agent', 'dpo'],
    public: true,
    responses: { 200: { description: 'the OpenAPI document', contentType: 'application/json' } },
  });
  return (app: FastifyInstance) => {
    app.get('/api/v1/openapi.json', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return deps.docs.document();
    });
  };
}
