import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { z } from 'zod';
import { AppError } from '../../shared/app-error.ts';
import type { ApiRoute, ParsedBody, ParsedParams, ParsedQuery, Role } from '../contract/api-route.ts';
import { requireRole, type Authenticator } from '../auth/principal.ts';
import { parseWith } from '../auth/web-deps.ts';

/** Where a value was read from; named in the 400 answer. */
export type RequestPart = 'path' | 'query' | 'body';

/** Turns a request part into the schema's output or throws the 400 (VALIDATION) naming the fields, no values. */
export type RequestParser = <T extends z.ZodType>(schema: T, value: unknown, where: RequestPart) => z.output<T>;

/** The 400 of the REST routes: "the body is not valid: …", with the fields as `body.text`. */
export const parseNamed: RequestParser = (schema, value, where) => {
  // No body at all counts as an empty object; a JSON `null` body is a wrong body, not an empty one.
  const result = schema.safeParse(value === undefined ? {} : value);
  if (!result.success) {
    const fields = result.error.issues.map((i) => [where, ...i.path.map(String)].join('.'));
    throw new AppError('VALIDATION', `the ${where} is not valid: ${result.error.issues[0]?.message ?? 'invalid'}`, {
      fields,
    });
  }
  return result.data;
};

/** The 400 of the web inbox's routes: "the request is not valid: check text", with the fields as `text`. */
export const parseFields: RequestParser = (schema, value) => parseWith(schema, value);

/** What a handler gets: the request's params, query and body, parsed with the route's schemas. */
export interface ParsedRequest<R extends ApiRoute> {
  params: ParsedParams<R>;
  query: ParsedQuery<R>;
  body: ParsedBody<R>;
}

/**
 * What a handler answers: for a route with a JSON schema, exactly that shape (the compiler holds the server to the
 * contract the web is typed with); for a file, CSV or stream, whatever it sends itself through the reply.
 */
export type HandlerResult<R extends ApiRoute> = R['response'] extends { schema: infer S extends z.ZodType }
  ? z.input<S>
  : R['response'] extends { status: 204 }
    ? void
    : unknown;

export type ContractHandler<R extends ApiRoute> = (
  input: ParsedRequest<R>,
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<HandlerResult<R>>;

export interface RegisterOptions {
  authenticate: Authenticator;
  parse: RequestParser;
  /** Roles that replace the contract's where a deployment configures them (who may reveal an address). */
  roles?: readonly Role[];
  /**
   * Runs after the guard and before the request is parsed: the own credential check of a route whose access is
   * `step`, so that a request without a session is answered 401, not 400 for its body.
   */
  before?: (request: FastifyRequest) => Promise<void>;
  /** Further Fastify route options: rate-limit config, body limit. */
  fastify?: RouteShorthandOptions;
}

/** The guard the route's `access` asks for: roles (401/403), a staff session on top, or none (the route checks). */
function guardOf(route: ApiRoute, options: RegisterOptions) {
  const access = route.access ?? 'guarded';
  if (access === 'public' || access === 'step') return [];
  const roles = options.roles ?? route.roles;
  const guard = requireRole(options.authenticate, ...roles);
  if (access === 'guarded') return [guard];
  return [
    guard,
    async (request: FastifyRequest) => {
      if (request.principal?.kind !== 'session') {
        throw new AppError('FORBIDDEN', 'the account routes are for staff sessions, not API tokens');
      }
    },
  ];
}

/**
 * Registers one contract operation with Fastify: the guard its roles and access ask for, its params, query and body
 * parsed with its schemas, its success status. The handler returns the JSON; a handler that sends itself (a file, a
 * stream) returns the reply.
 */
export function registerRoute<R extends ApiRoute>(
  app: FastifyInstance,
  route: R,
  options: RegisterOptions,
  handler: ContractHandler<R>,
): void {
  const guards = guardOf(route, options);
  const status = route.response.status ?? 200;
  app.route({
    ...options.fastify,
    method: route.method,
    url: route.url,
    ...(guards.length > 0 ? { preHandler: guards } : {}),
    handler: async (request, reply) => {
      await options.before?.(request);
      const input = {
        params: route.params ? options.parse(route.params, request.params, 'path') : undefined,
        query: route.query ? options.parse(route.query, request.query, 'query') : undefined,
        body: route.body && !route.bodyContentType ? options.parse(route.body, request.body, 'body') : undefined,
      } as ParsedRequest<R>;
      const result = await handler(input, request, reply);
      if (reply.sent || result === reply) return reply;
      if (status === 204) return reply.status(204).send();
      reply.status(status);
      return result;
    },
  });
}
