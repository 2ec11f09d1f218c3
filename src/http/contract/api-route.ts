import { z } from 'zod';

/**
 * One operation of /api/v1, written once: the route module registers it with Fastify (role guard, validation of
 * params, query and body with these schemas), the OpenAPI document lists it, and the web inbox takes its request and
 * response types from it (type-only imports; this folder imports nothing but zod, so the web never bundles it).
 */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Full path in Fastify's `:param` style, e.g. `/api/v1/conversations/:id`; the document shows `{param}`. */
  url: string;
  summary: string;
  tags: readonly string[];
  /** Roles admitted: the guard refuses the others with 403; the document lists them. */
  roles: readonly Role[];
  /**
   * Who may call it besides the roles: `guarded` (default) a session or an API token with one of the roles;
   * `session` the same but a staff session only (an API token gets 403); `step` the route reads the session itself,
   * pending login steps included (answers 401 on its own); `public` open without credentials (login, invitations).
   */
  access?: 'guarded' | 'session' | 'step' | 'public';
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Media type of the request body (default application/json); a binary upload documents its body as bytes. */
  bodyContentType?: string;
  /** Optional request headers the operation reads. */
  headers?: readonly { name: string; description: string }[];
  /** The success answer: its status (default 200), and the JSON schema or the media type of what is sent. */
  response: { status?: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Other answers worth naming (400, 401 and 403 are listed for every route). */
  errors?: Readonly<Record<number, string>>;
}

/** Keeps the literal types of a route definition, so that its schemas type the handler and the web client. */
export function defineRoute<const R extends ApiRoute>(route: R): R {
  return route;
}

export const RoleSchema = z.enum(['admin', 'agent', 'dpo']);
export type Role = z.infer<typeof RoleSchema>;
export const LangSchema = z.enum(['de', 'en']);
export type Lang = z.infer<typeof LangSchema>;

/** The body of every error answer. */
export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

/** `{ ok: true }`, the answer of an action with nothing else to say. */
export const OkSchema = z.object({ ok: z.literal(true) });

/** An `:id` path parameter as it is checked on the conversation, compliance and marketing routes. */
export const IdParams = z.object({ id: z.string().min(1).max(100) });
/** An `:id` path parameter taken as it comes (the service answers 404 for an unknown one). */
export const AnyIdParams = z.object({ id: z.string() });

export const ALL_ROLES = ['admin', 'agent', 'dpo'] as const;
/** Inbox work is for admins and agents; the data protection officer works with exports, not conversations. */
export const STAFF_ROLES = ['admin', 'agent'] as const;
export const ADMIN_ROLES = ['admin'] as const;

// ------------------------------------------------------------------------------------------------ type helpers

type SchemaOf<T, K extends string> = T extends { [P in K]: infer S extends z.ZodType } ? S : never;

/** The JSON a route answers with on success (what the web receives). */
export type ResponseOf<R extends ApiRoute> = R['response'] extends { schema: infer S extends z.ZodType }
  ? z.output<S>
  : unknown;
/** What a caller sends as the body (defaults not yet applied). */
export type BodyOf<R extends ApiRoute> = z.input<SchemaOf<R, 'body'>>;
/** What a caller sends as the query string (defaults not yet applied). */
export type QueryOf<R extends ApiRoute> = z.input<SchemaOf<R, 'query'>>;
/** The path parameters. */
export type ParamsOf<R extends ApiRoute> = z.input<SchemaOf<R, 'params'>>;
/** The parsed body, query and params a handler works with (defaults applied). */
export type ParsedBody<R extends ApiRoute> = [SchemaOf<R, 'body'>] extends [never]
  ? undefined
  : z.output<SchemaOf<R, 'body'>>;
export type ParsedQuery<R extends ApiRoute> = [SchemaOf<R, 'query'>] extends [never]
  ? undefined
  : z.output<SchemaOf<R, 'query'>>;
export type ParsedParams<R extends ApiRoute> = [SchemaOf<R, 'params'>] extends [never]
  ? undefined
  : z.output<SchemaOf<R, 'params'>>;
